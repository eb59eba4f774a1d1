/**
 * Finding and ending processes that outlived their owner: those a pid file
 * names (checked against their start time, so a reused pid is never
 * signalled), and those whose environment carries a marker variable.
 */
import { readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { killTree, sendSignal } from "./killTree.ts";
import {
  allProcesses,
  ancestry,
  bootId,
  commandLine,
  environValue,
  isRunning,
  type ProcessInfo,
  processInfo,
  startedAt,
} from "./procfs.ts";
import type { ChildRecord } from "./supervisor.ts";

export interface Leftover {
  /** The child's name from its pid file, or the program's name. */
  readonly name: string;
  readonly pid: number;
  readonly startTicks: number;
  readonly command: string;
  readonly startedAt: Date;
}

/** Processes whose start environment has `variable` set to a value `matches` accepts, this process and its ancestors aside. */
export function markedProcesses(variable: string, matches: (value: string) => boolean): Leftover[] {
  const mine = ancestry();
  return allProcesses()
    .filter((p) => !mine.has(p.pid) && p.state !== "Z")
    .filter((p) => {
      const value = environValue(p.pid, variable);
      return value !== undefined && matches(value);
    })
    .map((p) => leftover(p, p.comm));
}

function leftover(p: ProcessInfo, name: string): Leftover {
  return {
    name,
    pid: p.pid,
    startTicks: p.startTicks,
    command: commandLine(p.pid).slice(0, 160) || p.comm,
    startedAt: startedAt(p.startTicks),
  };
}

/** The children recorded in `dir` that still run; stale pid files are removed. */
export function recordedProcesses(dir: string): (Leftover & { readonly graceMs: number })[] {
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => n.endsWith(".json"));
  } catch {
    return [];
  }
  const boot = bootId();
  const out: (Leftover & { graceMs: number })[] = [];
  for (const file of names) {
    let record: ChildRecord | undefined;
    try {
      record = JSON.parse(readFileSync(join(dir, file), "utf8")) as ChildRecord;
    } catch {
      // Half-written by a run killed at that moment.
    }
    const info = record ? processInfo(record.pid) : undefined;
    if (record && info && record.bootId === boot && isRunning(record.pid, record.startTicks)) {
      out.push({ ...leftover(info, record.name), graceMs: record.graceMs });
    } else {
      rmSync(join(dir, file), { force: true });
    }
  }
  return out;
}

/**
 * Ends each process gently, then for good: SIGTERM (and SIGCONT, in case it
 * was stopped), up to `graceMs` to exit, then SIGKILL for it and its tree.
 */
export async function endProcesses(processes: readonly Leftover[], graceMs: number): Promise<void> {
  for (const p of processes) {
    if (!isRunning(p.pid, p.startTicks)) continue;
    sendSignal(p.pid, "SIGTERM");
    sendSignal(p.pid, "SIGCONT");
  }
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline && processes.some((p) => isRunning(p.pid, p.startTicks)))
    await new Promise((r) => setTimeout(r, 50));
  await Promise.all(processes.map((p) => killTree(p.pid, p.startTicks)));
}
