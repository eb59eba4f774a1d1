/**
 * Gauges of the whole fleet, read from the platform database on each scrape
 * (so every process that serves them reports the same values; ops/ rules
 * aggregate with max): tenants by state, operations stuck past the timeout,
 * tenants waiting for capacity, each tenant's health verdict, drift, newest
 * backup and certificate expiries, and each host's memory against what its
 * tenants commit. The alert rules in ops/prometheus/alerts.yml read these names.
 */
import type pg from "pg";
import { Gauge, type Registry } from "prom-client";
import type { KnownHost } from "../components/hostPool.ts";
import { ACTUAL_STATES } from "../database/instanceStates.ts";
import { hostUsage } from "./reconcile/placement.ts";
import { placedInstances } from "./reconcile/store.ts";

export interface FleetMetricsDeps {
  readonly pool: pg.Pool;
  /** The Dokku hosts tenants are placed on. */
  readonly hosts: () => readonly KnownHost[] | Promise<readonly KnownHost[]>;
  /** Operations running longer than this count as stuck (the automation timeout). */
  readonly operationTimeoutMs: number;
}

const MB = 1024 * 1024;

/** A gauge whose values are replaced on every scrape by what `read` returns. */
function snapshotGauge<L extends string>(
  registry: Registry,
  name: string,
  help: string,
  labelNames: readonly L[],
  read: () => Promise<readonly (readonly [Partial<Record<L, string>>, number])[]>,
): Gauge<L> {
  return new Gauge<L>({
    name,
    help,
    labelNames,
    registers: [registry],
    async collect() {
      // A scrape during a database outage still answers, without these gauges.
      const values = await read().catch(() => undefined);
      this.reset();
      for (const [labels, value] of values ?? []) this.set(labels, value);
    },
  });
}

export function registerFleetMetrics(registry: Registry, deps: FleetMetricsDeps): void {
  const { pool } = deps;
  const rows = async <T>(sql: string, values: unknown[] = []) =>
    (await pool.query<T & pg.QueryResultRow>(sql, values)).rows;

  snapshotGauge(registry, "mindroom_tenants", "Tenants by actual state", ["state"], async () => {
    const counts = new Map(
      (
        await rows<{ state: string; n: string }>(
          "select actual_state as state, count(*) as n from public.instances group by 1",
        )
      ).map((r) => [r.state, Number(r.n)]),
    );
    return ACTUAL_STATES.map((state) => [{ state }, counts.get(state) ?? 0] as const);
  });

  snapshotGauge(
    registry,
    "mindroom_tenants_waiting_for_capacity",
    "Tenants held up by capacity: new ones no host has room for, and changes of plan their host cannot hold",
    ["kind"],
    async () => {
      const [r] = await rows<{ new: string; upgrade: string }>(
        `select count(*) filter (where actual_state = 'waiting_for_capacity') as new,
                count(*) filter (where actual_state <> 'waiting_for_capacity' and blocked_reason is not null) as upgrade
           from public.instances where desired_state <> 'deleted'`,
      );
      return [
        [{ kind: "new" }, Number(r?.new ?? 0)],
        [{ kind: "upgrade" }, Number(r?.upgrade ?? 0)],
      ] as const;
    },
  );

  snapshotGauge(
    registry,
    "mindroom_operations_stuck",
    "Operations queued or running for longer than the operation timeout",
    [],
    async () => {
      const [r] = await rows<{ n: string }>(
        `select count(*) as n from public.operations
          where status in ('queued', 'running')
            and coalesce(started_at, created_at) < now() - make_interval(secs => $1)`,
        [deps.operationTimeoutMs / 1000],
      );
      return [[{}, Number(r?.n ?? 0)]] as const;
    },
  );

  snapshotGauge(
    registry,
    "mindroom_tenant_degraded",
    "1 when the tenant's last health check found it degraded, 0 when healthy (running tenants only)",
    ["tenant"],
    async () =>
      (
        await rows<{ slug: string; health: string }>(
          "select slug, health from public.instances where health <> 'unknown'",
        )
      ).map((r) => [{ tenant: r.slug }, r.health === "degraded" ? 1 : 0] as const),
  );

  snapshotGauge(
    registry,
    "mindroom_tenant_drift",
    "1 when the tenant's latest drift check found the host changed, 0 when it found nothing",
    ["tenant"],
    async () =>
      (
        await rows<{ slug: string; drifted: boolean }>(
          `select i.slug,
                coalesce(jsonb_typeof(d.changes -> 'drift') = 'array' and jsonb_array_length(d.changes -> 'drift') > 0, false)
                  as drifted
           from public.instances i
           join lateral (select o.changes from public.operations o
                          where o.instance_id = i.id and o.kind = 'drift' and o.status = 'succeeded'
                          order by o.created_at desc limit 1) d on true
          where i.actual_state not in ('deleted', 'deleting')`,
        )
      ).map((r) => [{ tenant: r.slug }, r.drifted ? 1 : 0] as const),
  );

  snapshotGauge(
    registry,
    "mindroom_tenant_last_backup_timestamp_seconds",
    "The newest backup found in the tenant's prefix of the backup bucket",
    ["tenant"],
    async () =>
      (
        await rows<{ slug: string; at: Date }>(
          `select slug, last_backup_at as at from public.instances
          where last_backup_at is not null and actual_state not in ('deleted', 'deleting')`,
        )
      ).map((r) => [{ tenant: r.slug }, r.at.getTime() / 1000] as const),
  );

  snapshotGauge(
    registry,
    "mindroom_certificate_expiry_timestamp_seconds",
    "When each app's TLS certificate expires, as the last health check read it from the host",
    ["tenant", "app"],
    async () =>
      (
        await rows<{ slug: string; app: string; expires: string }>(
          `select i.slug, c ->> 'app' as app, c ->> 'expiresAt' as expires
           from public.instances i, jsonb_array_elements(coalesce(i.health_report -> 'certificates', '[]')) c
          where i.health <> 'unknown'`,
        )
      )
        .map((r) => [{ tenant: r.slug, app: r.app }, new Date(r.expires).getTime() / 1000] as const)
        .filter(([, at]) => Number.isFinite(at)),
  );

  const usage = async () => hostUsage(await deps.hosts(), await placedInstances(pool, null));
  snapshotGauge(
    registry,
    "mindroom_host_memory_bytes",
    "Memory a Dokku host gives tenants",
    ["host"],
    async () => (await usage()).map((h) => [{ host: h.url }, h.memoryMb * MB] as const),
  );
  snapshotGauge(
    registry,
    "mindroom_host_memory_committed_bytes",
    "Memory the tenants placed on a host may use together at their limits",
    ["host"],
    async () => (await usage()).map((h) => [{ host: h.url }, h.committedMemoryMb * MB] as const),
  );
}
