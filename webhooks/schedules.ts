/**
 * Everything the worker does on a schedule besides taking reconcile jobs, each
 * a self-rescheduling pg-boss job (periodic.ts) so several service processes
 * share one schedule: the sweep against Stripe (`MINDROOM_SWEEP_INTERVAL`),
 * tenant health checks (`MINDROOM_HEALTH_INTERVAL`), drift checks through the
 * worker pool (`MINDROOM_DRIFT_INTERVAL`), the capacity retry
 * (`MINDROOM_CAPACITY_RETRY_INTERVAL`), usage collection on the hosts
 * (`MINDROOM_USAGE_INTERVAL`) and backup retention
 * (`MINDROOM_BACKUP_CHECK_INTERVAL`, backupRetention.ts). An interval of `0s`
 * turns one off.
 */
import type { Registry } from "prom-client";
import { readHostPool } from "../database/hosts.ts";
import { startBackupRetention } from "./backupRetention.ts";
import { CAPACITY_RETRY_QUEUE, retryBlockedTenants } from "./capacityRetry.ts";
import { checkDrift, DRIFT_QUEUE, type DriftScheduleDeps } from "./driftSchedule.ts";
import { startPeriodic } from "./periodic.ts";
import type { ReconcileQueue } from "./queue.ts";
import { type SweepDeps, startPeriodicSweep } from "./sweep.ts";
import { startHealthChecks } from "./tenantHealth/schedule.ts";
import { collectUsage, USAGE_QUEUE } from "./usage/collector.ts";

export interface ScheduleDeps extends SweepDeps {
  readonly queue: Pick<ReconcileQueue, "enqueue" | "boss">;
  readonly operations: DriftScheduleDeps["operations"] & { secrets(): { readonly sshPrivateKey: string } };
  readonly metrics?: { readonly registry: Registry };
}

export async function startSchedules(deps: ScheduleDeps): Promise<void> {
  const { boss } = deps.queue;
  const reconcile = deps.settings.reconcile;
  await startPeriodicSweep(
    { ...deps, log: deps.log.child({ component: "sweep" }) },
    reconcile.sweepIntervalMs,
  );
  await startHealthChecks(
    boss,
    {
      db: deps.db,
      privateKey: () => deps.operations.secrets().sshPrivateKey,
      settings: { httpProbe: reconcile.healthHttpProbe, httpTimeoutMs: 5_000 },
      log: deps.log.child({ component: "health" }),
    },
    reconcile.healthIntervalMs,
    deps.metrics?.registry,
  );
  const driftLog = deps.log.child({ component: "drift" });
  await startPeriodic(
    boss,
    {
      name: DRIFT_QUEUE,
      intervalMs: reconcile.driftIntervalMs,
      // The first check waits a whole interval: a restart must not re-check every tenant.
      firstRunMs: reconcile.driftIntervalMs,
      expireInSeconds: 6 * 3600,
      run: async () => {
        await checkDrift({ db: deps.db, operations: deps.operations, log: driftLog });
      },
    },
    driftLog,
  );
  const capacityLog = deps.log.child({ component: "capacity" });
  await startPeriodic(
    boss,
    {
      name: CAPACITY_RETRY_QUEUE,
      intervalMs: reconcile.capacityRetryMs,
      expireInSeconds: 300,
      run: async () => {
        await retryBlockedTenants({
          db: deps.db,
          queue: deps.queue,
          hosts: () => readHostPool(deps.db.pool),
          settings: reconcile,
          log: capacityLog,
        });
      },
    },
    capacityLog,
  );
  const usageLog = deps.log.child({ component: "usage" });
  await startPeriodic(
    boss,
    {
      name: USAGE_QUEUE,
      intervalMs: reconcile.usageIntervalMs,
      firstRunMs: Math.min(reconcile.usageIntervalMs, 60_000),
      expireInSeconds: 3600,
      run: async () => {
        await collectUsage({
          pool: deps.db.pool,
          secrets: () => deps.operations.secrets(),
          log: usageLog,
        });
      },
    },
    usageLog,
  );
  await startBackupRetention(
    boss,
    {
      pool: deps.db.pool,
      automation: deps.settings.automation,
      log: deps.log.child({ component: "backups" }),
    },
    reconcile.backupCheckIntervalMs,
  );
}
