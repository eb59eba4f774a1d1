/**
 * How a long-running entry point (`./platform start`) ends: on SIGINT or
 * SIGTERM it runs its stop steps in order, each part draining its own work;
 * whatever is still running at the deadline (or at a second signal) is killed
 * with its whole tree, so a stop never takes longer than the deadline. An
 * operation cut short that way is recoverable: its job is retried and the next
 * operation on its stack recovers the checkpoint and the lock.
 */
import { supervisedChildren } from "./supervisor.ts";

const STOP_SIGNALS = ["SIGINT", "SIGTERM"] as const;

/** Resolves with the first SIGINT or SIGTERM. This process owns those signals from now on. */
export function untilStopSignal(): Promise<NodeJS.Signals> {
  for (const signal of STOP_SIGNALS) process.removeAllListeners(signal);
  return new Promise((resolve) => {
    const on = (signal: NodeJS.Signals) => {
      for (const s of STOP_SIGNALS) process.removeListener(s, on);
      resolve(signal);
    };
    for (const signal of STOP_SIGNALS) process.on(signal, on);
  });
}

export interface StopReport {
  /** `done`: every step finished; `deadline` or `signal`: the rest was killed. */
  readonly outcome: "done" | "deadline" | "signal";
  readonly ms: number;
}

/** Runs `steps` in order; at `deadlineMs`, or on another SIGINT/SIGTERM, kills every supervised child instead. */
export async function stopWithin(
  steps: readonly (() => Promise<void>)[],
  deadlineMs: number,
  onError: (error: unknown) => void = () => undefined,
): Promise<StopReport> {
  const started = Date.now();
  let timer: NodeJS.Timeout | undefined;
  let onSignal: (() => void) | undefined;
  const outcome = await Promise.race([
    (async () => {
      for (const step of steps) await step().catch(onError);
      return "done" as const;
    })(),
    new Promise<"deadline">((resolve) => {
      timer = setTimeout(() => resolve("deadline"), deadlineMs);
    }),
    new Promise<"signal">((resolve) => {
      onSignal = () => resolve("signal");
      for (const signal of STOP_SIGNALS) process.once(signal, onSignal);
    }),
  ]);
  clearTimeout(timer);
  for (const signal of STOP_SIGNALS) if (onSignal) process.removeListener(signal, onSignal);
  if (outcome !== "done") await Promise.all(supervisedChildren().map((child) => child.kill()));
  return { outcome, ms: Date.now() - started };
}
