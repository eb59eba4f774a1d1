/**
 * Ends a process and everything below it at once. The tree is frozen first
 * (SIGSTOP: a stopped process cannot fork), re-read until nothing new appears,
 * then killed, so no process escapes by being born or re-parented meanwhile.
 */
import { descendantsOf, isRunning, processInfo } from "./procfs.ts";

/** Sends a signal to a process that may have ended meanwhile. */
export function sendSignal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // Gone already.
  }
}

/** SIGKILLs `pid` and its descendants; resolves once none of them runs. `startTicks` guards a reused pid. */
export async function killTree(pid: number, startTicks?: number): Promise<void> {
  const root = processInfo(pid);
  if (!root || (startTicks !== undefined && root.startTicks !== startTicks)) return;
  const seen = new Map<number, number>([[pid, root.startTicks]]);
  sendSignal(pid, "SIGSTOP");
  for (let pass = 0; pass < 20; pass++) {
    const fresh = descendantsOf(pid).filter((p) => !seen.has(p.pid));
    if (fresh.length === 0) break;
    for (const p of fresh) {
      seen.set(p.pid, p.startTicks);
      sendSignal(p.pid, "SIGSTOP");
    }
  }
  for (const [p, ticks] of seen) if (processInfo(p)?.startTicks === ticks) sendSignal(p, "SIGKILL");
  for (let i = 0; i < 200 && [...seen].some(([p, ticks]) => isRunning(p, ticks)); i++)
    await new Promise((r) => setTimeout(r, 10));
}
