/**
 * Fault injection for tests, stored in `<instance>/state/faults.json`. The host
 * handle (running as root) arms rules; every command evaluates them under the
 * state lock before running and consumes the one that fires. This module is
 * shared by both sides, so the file format lives in exactly one place.
 *
 * Rules count only commands they match (all commands when `match` is null). The
 * match is tested against the argv Dokku ends up with, joined by spaces, after
 * global flags were stripped, e.g. `config:set --no-restart app K=v`.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";

export interface FaultMatch {
  source: string;
  flags: string;
}

interface RuleBase {
  id: string;
  /** Fires on the nth matching command counted from when the rule was armed (1 = the next one). */
  nth: number;
  seen: number;
  match: FaultMatch | null;
}

export interface FailRule extends RuleBase {
  kind: "fail";
  exitCode: number;
  stderr: string;
}

export interface DropRule extends RuleBase {
  kind: "drop";
  /** `before`: the command never runs. `after`: it runs and its state change is kept, then the session dies. */
  when: "before" | "after";
}

export type FaultRule = FailRule | DropRule;

export interface DelayRule {
  ms: number;
  match: FaultMatch | null;
}

/**
 * Matching commands run, then keep their answer until the test lifts the hold:
 * a test can catch an operation half-way however fast the host is.
 */
export interface HoldRule {
  id: string;
  match: FaultMatch | null;
  /** Commands that have reached the hold so far. */
  reached: number;
}

export interface FaultsFile {
  rules: FaultRule[];
  /** One per `match` (test files share the host, each slows its own apps); the first that matches applies. */
  delays: DelayRule[];
  holds: HoldRule[];
}

export type FaultAction =
  | { kind: "none" }
  | { kind: "fail"; exitCode: number; stderr: string; ruleId: string }
  | { kind: "drop"; when: "before" | "after"; ruleId: string };

export interface FaultDecision {
  action: FaultAction;
  delayMs: number;
  /** The hold the answer waits on, if one matched. */
  holdId: string | null;
}

export function emptyFaults(): FaultsFile {
  return { rules: [], delays: [], holds: [] };
}

export function toFaultMatch(pattern: RegExp | undefined): FaultMatch | null {
  return pattern ? { source: pattern.source, flags: pattern.flags.replace("g", "") } : null;
}

function matches(match: FaultMatch | null, commandLine: string): boolean {
  return match === null || new RegExp(match.source, match.flags).test(commandLine);
}

/**
 * Decides what happens to one command and returns the updated rules. Pure: the
 * caller persists `next` (under the lock) when it differs.
 */
export function decideFaults(
  faults: FaultsFile,
  commandLine: string,
): { decision: FaultDecision; next: FaultsFile } {
  let action: FaultAction = { kind: "none" };
  const rules: FaultRule[] = [];
  for (const rule of faults.rules) {
    if (!matches(rule.match, commandLine)) {
      rules.push(rule);
      continue;
    }
    const seen = rule.seen + 1;
    if (seen < rule.nth) {
      rules.push({ ...rule, seen });
      continue;
    }
    if (action.kind !== "none") {
      // Another rule already took this command; this one fires on the next match.
      rules.push({ ...rule, seen: rule.nth - 1 });
      continue;
    }
    action =
      rule.kind === "fail"
        ? { kind: "fail", exitCode: rule.exitCode, stderr: rule.stderr, ruleId: rule.id }
        : { kind: "drop", when: rule.when, ruleId: rule.id };
  }
  const delayMs = faults.delays.find((delay) => matches(delay.match, commandLine))?.ms ?? 0;
  const hold = faults.holds.find((candidate) => matches(candidate.match, commandLine));
  const holds = faults.holds.map((h) => (h === hold ? { ...h, reached: h.reached + 1 } : h));
  return {
    decision: { action, delayMs, holdId: hold?.id ?? null },
    next: { rules, delays: faults.delays, holds },
  };
}

export function readFaults(path: string): FaultsFile {
  if (!existsSync(path)) return emptyFaults();
  const text = readFileSync(path, "utf8");
  return text.trim() === ""
    ? emptyFaults()
    : { ...emptyFaults(), ...(JSON.parse(text) as Partial<FaultsFile>) };
}

/** Atomic replace, readable by both the host (root) and the `dokku` user. */
export function writeFaults(path: string, faults: FaultsFile): void {
  const temp = `${path}.${process.pid}.tmp`;
  writeFileSync(temp, `${JSON.stringify(faults)}\n`, { mode: 0o666 });
  renameSync(temp, path);
}
