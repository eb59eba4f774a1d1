/**
 * A task that runs every interval inside the service (the sweep, tenant health
 * checks, scheduled drift checks, the capacity retry): a pg-boss job that
 * schedules its successor as it starts, one waiting per key (`stately`), so
 * several service processes share one schedule and a restart keeps it.
 */
import type { PgBoss } from "pg-boss";
import type { Logger } from "../logging/logger.ts";

export interface PeriodicTask {
  /** pg-boss queue name (also the singleton key). */
  readonly name: string;
  readonly intervalMs: number;
  /** The first run after start (default: the interval, at most 30 s). */
  readonly firstRunMs?: number;
  /** Longest one run may take before pg-boss expires it (seconds, default 1800). */
  readonly expireInSeconds?: number;
  run(): Promise<void>;
}

/** Starts the task's schedule; an interval of 0 or less turns it off. */
export async function startPeriodic(boss: PgBoss, task: PeriodicTask, log?: Logger): Promise<void> {
  if (task.intervalMs <= 0) return;
  await boss.createQueue(task.name, {
    policy: "stately",
    retryLimit: 2,
    expireInSeconds: task.expireInSeconds ?? 1800,
  });
  const next = (delayMs: number) =>
    boss.send(task.name, {}, { singletonKey: task.name, startAfter: new Date(Date.now() + delayMs) });
  // Poll at least as often as the task runs (pg-boss takes whole seconds, 0.5 at the least).
  const pollingIntervalSeconds = Math.max(0.5, Math.min(5, Math.floor(task.intervalMs / 2000)));
  await boss.work(task.name, { localConcurrency: 1, pollingIntervalSeconds }, async () => {
    // The successor first: one always waits, whatever becomes of this run.
    await next(task.intervalMs);
    try {
      await task.run();
    } catch (error) {
      log?.error(`${task.name} failed`, { error });
      throw error;
    }
  });
  // If a run is scheduled already (another process, an earlier start), that one stays.
  await next(task.firstRunMs ?? Math.min(task.intervalMs, 30_000));
}
