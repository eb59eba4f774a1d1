/**
 * Checks through /proc that processes are gone: a snapshot of a process tree
 * (pid + start time, so a reused pid never counts as a survivor) and a wait
 * for every process of it to end.
 */
import { commandLine, descendantsOf, isRunning, processInfo } from "../processes/procfs.ts";

export interface ProcessSnapshot {
  readonly pid: number;
  readonly startTicks: number;
  readonly comm: string;
  readonly command: string;
}

/**
 * The policy analyzer as a process tree shows it: Node running the pack's bundle, or
 * index.ts when the bundle is stale or not built (policies/analyzer).
 */
export const ANALYZER_PROCESS = /node (index\.ts|\S*\/analyzer\.mjs)\b/;

/** `root` and every process below it. */
export function snapshotTree(root: number): ProcessSnapshot[] {
  const top = processInfo(root);
  return [...(top ? [top] : []), ...descendantsOf(root)].map((p) => ({
    pid: p.pid,
    startTicks: p.startTicks,
    comm: p.comm,
    command: commandLine(p.pid),
  }));
}

/** Waits until none of `processes` runs, for at most `withinMs`; returns those still running then. */
export async function survivors(
  processes: readonly ProcessSnapshot[],
  withinMs: number,
): Promise<ProcessSnapshot[]> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    const alive = processes.filter((p) => isRunning(p.pid, p.startTicks));
    if (alive.length === 0 || Date.now() >= deadline) return alive;
    await new Promise((r) => setTimeout(r, 100));
  }
}
