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

/**
 * A whole stop's budget (`./platform start` and `./platform serve`): inside the
 * 30 s that docker stop, systemd and Kubernetes give before their SIGKILL.
 */
export const STOP_DEADLINE_MS = 25_000;

/**
 * The webhook service's `shutdownGraceMs`: reconciles in flight get this long to
 * finish, then as long to cancel, leaving room in the deadline for the rest.
 */
export const DRAIN_GRACE_MS = 8_000;

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

/** The line a stop ends with. */
export function describeStop(report: StopReport): string {
  const took = `stopped in ${(report.ms / 1000).toFixed(1)} s`;
  if (report.outcome === "done") return `${took}\n`;
  const why = report.outcome === "signal" ? "a second signal" : "the deadline";
  return `${took} (${why}: what was still running was killed; the next start recovers it)\n`;
}
