/**
 * The health check on its schedule (`MINDROOM_HEALTH_INTERVAL`), inside the
 * service like the sweep (webhooks/periodic.ts), with the time of its last
 * completed run as a gauge: `MindroomHealthChecksStale` fires when it stops.
 */

import type { PgBoss } from "pg-boss";
import { Gauge, type Registry } from "prom-client";
import { startPeriodic } from "../periodic.ts";
import { checkTenantHealth, type HealthCheckDeps } from "./check.ts";

export const HEALTH_QUEUE = "tenant-health";

/** When the health check last completed (one gauge per registry). */
export function lastRunGauge(registry: Registry | undefined): Gauge | undefined {
  if (!registry) return undefined;
  const name = "mindroom_health_check_last_run_timestamp_seconds";
  return (
    (registry.getSingleMetric(name) as Gauge | undefined) ??
    new Gauge({ name, help: "When the tenant health check last completed", registers: [registry] })
  );
}

export async function startHealthChecks(
  boss: PgBoss,
  deps: HealthCheckDeps,
  intervalMs: number,
  registry?: Registry,
): Promise<void> {
  const lastRun = lastRunGauge(registry);
  await startPeriodic(
    boss,
    {
      name: HEALTH_QUEUE,
      intervalMs,
      firstRunMs: Math.min(intervalMs, 5_000),
      expireInSeconds: 600,
      run: async () => {
        await checkTenantHealth(deps);
        lastRun?.setToCurrentTime();
      },
    },
    deps.log,
  );
}
