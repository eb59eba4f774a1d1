/**
 * The test-side handle on an instance's faults file and command log. Every
 * read-modify-write happens while holding the same flock the forced command
 * takes, so arming a fault never races with a command consuming one.
 *
 * Works from any process that can read and write the instance's state directory
 * (the host process, or a vitest worker given the directory by globalSetup).
 */
import { spawn } from "node:child_process";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { type LoggedCommand, readCommandLog } from "./cli/commandLog.ts";
import {
  type DelayRule,
  type FaultRule,
  type FaultsFile,
  readFaults,
  toFaultMatch,
  writeFaults,
} from "./cli/faults.ts";

export type { LoggedCommand } from "./cli/commandLog.ts";
export type { FaultRule } from "./cli/faults.ts";

export interface InjectedFailure {
  exitCode: number;
  /** Written to the client's stderr as is (a newline is added if missing). */
  stderr: string;
}

export interface FaultControl {
  /** Fail the nth command from now (1 = the next one) instead of running it; with `match`, count only matching commands. */
  failNth(nth: number, failure: InjectedFailure & { match?: RegExp }): Promise<void>;
  /** Fail the next command whose argv (joined by spaces, global flags stripped) matches. */
  failNext(match: RegExp, failure: InjectedFailure): Promise<void>;
  /**
   * Kill the SSH session on the nth (matching) command, so the client sees the
   * connection die (ssh exit 255): `before` the command runs, or `after` its
   * state change was saved.
   */
  dropNth(nth: number, options: { when: "before" | "after"; match?: RegExp }): Promise<void>;
  /**
   * Delay every (matching) command by `ms` before its output is released, like a
   * distant host's latency; on the project's host, commands for other apps go on
   * meanwhile. Each `match` has its own delay (replaced by the next call with the
   * same pattern); 0 turns that one off, and 0 without `match` turns off all.
   */
  setDelay(ms: number, options?: { match?: RegExp }): Promise<void>;
  /**
   * Matching commands run, then keep their answer (the client waits) until the
   * returned hold is released; {@link clear} releases every hold too.
   */
  hold(match: RegExp): Promise<CommandHold>;
  /** Disarm every rule, delay and hold. */
  clear(): Promise<void>;
  /** Rules armed but not fired yet. */
  pending(): Promise<FaultRule[]>;
}

export interface CommandHold {
  /** How many commands have reached the hold so far. */
  reached(): Promise<number>;
  /** Lets every held command answer, and later ones run unheld; calls after the first change nothing. */
  release(): Promise<void>;
}

export class FaultArgumentError extends Error {
  override readonly name = "FaultArgumentError";
}

/**
 * Runs `fn` while holding the flock on `dir`: a `flock` child takes the lock,
 * says so, and keeps it until its stdin closes.
 */
export async function withStateLock<T>(dir: string, fn: () => T): Promise<T> {
  const child = spawn("flock", [dir, "sh", "-c", "echo locked; exec cat >/dev/null"], {
    stdio: ["pipe", "pipe", "inherit"],
  });
  const exited = new Promise<void>((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", () => resolve());
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout.once("data", () => resolve());
    child.once("error", reject);
    child.once("exit", (code) =>
      reject(new Error(`flock on ${dir} exited with ${String(code)} before locking`)),
    );
  });
  try {
    return fn();
  } finally {
    child.stdin.end();
    await exited;
  }
}

function validateNth(nth: number): void {
  if (!Number.isInteger(nth) || nth < 1)
    throw new FaultArgumentError(`nth must be a positive integer, got ${nth}`);
}

export function createFaultControl(stateDir: string): FaultControl {
  const faultsPath = join(stateDir, "faults.json");
  let counter = 0;
  const nextId = (): string => `${process.pid}-${Date.now()}-${++counter}`;
  const update = (change: (faults: FaultsFile) => void): Promise<void> =>
    withStateLock(stateDir, () => {
      const faults = readFaults(faultsPath);
      change(faults);
      writeFaults(faultsPath, faults);
    });
  return {
    failNth: (nth, failure) => {
      validateNth(nth);
      return update((faults) => {
        faults.rules.push({
          id: nextId(),
          kind: "fail",
          nth,
          seen: 0,
          match: toFaultMatch(failure.match),
          exitCode: failure.exitCode,
          stderr: failure.stderr,
        });
      });
    },
    failNext: (match, failure) =>
      update((faults) => {
        faults.rules.push({
          id: nextId(),
          kind: "fail",
          nth: 1,
          seen: 0,
          match: toFaultMatch(match),
          ...failure,
        });
      }),
    dropNth: (nth, options) => {
      validateNth(nth);
      return update((faults) => {
        faults.rules.push({
          id: nextId(),
          kind: "drop",
          nth,
          seen: 0,
          match: toFaultMatch(options.match),
          when: options.when,
        });
      });
    },
    setDelay: (ms, options) => {
      if (!Number.isFinite(ms) || ms < 0) throw new FaultArgumentError(`delay must be >= 0 ms, got ${ms}`);
      const match = toFaultMatch(options?.match);
      const same = (delay: DelayRule): boolean => JSON.stringify(delay.match) === JSON.stringify(match);
      return update((faults) => {
        if (ms === 0 && match === null) faults.delays = [];
        else
          faults.delays = [
            ...faults.delays.filter((delay) => !same(delay)),
            ...(ms === 0 ? [] : [{ ms, match }]),
          ];
      });
    },
    hold: async (match) => {
      const id = nextId();
      await update((faults) => {
        faults.holds.push({ id, match: toFaultMatch(match), reached: 0 });
      });
      // Released once: a test may release on every poll once it saw what it waited for.
      let released: Promise<void> | undefined;
      return {
        reached: () =>
          withStateLock(stateDir, () => readFaults(faultsPath).holds.find((h) => h.id === id)?.reached ?? 0),
        release: () => {
          released ??= update((faults) => {
            faults.holds = faults.holds.filter((h) => h.id !== id);
          });
          return released;
        },
      };
    },
    clear: () =>
      update((faults) => {
        faults.rules = [];
        faults.delays = [];
        faults.holds = [];
      }),
    pending: () => withStateLock(stateDir, () => readFaults(faultsPath).rules),
  };
}

export function readInstanceCommandLog(stateDir: string): Promise<LoggedCommand[]> {
  return withStateLock(stateDir, () => readCommandLog(join(stateDir, "commands.jsonl")));
}

/** Empties the host: state, faults and command log (under the lock, so no command is half-way). */
export function resetInstanceState(stateDir: string): Promise<void> {
  return withStateLock(stateDir, () => {
    for (const name of ["state.json", "faults.json", "commands.jsonl", "storage"])
      rmSync(join(stateDir, name), { recursive: true, force: true });
  });
}
