/**
 * Brings back tenants that capacity held up, as soon as there is room: every
 * interval (`MINDROOM_CAPACITY_RETRY_INTERVAL`, default 15 s) it asks the
 * placement decision, with the hosts and placements of now, whether each
 * waiting tenant (or refused change of plan) would fit, and queues a reconcile
 * for those that would. Nothing else has to happen when an operator adds a host
 * or a tenant leaves one. The check is database-only; only a tenant that fits
 * costs a reconcile.
 */
import type pg from "pg";
import { isTierId, tenantFootprint } from "../components/tiers.ts";
import type { HostPool } from "../database/hosts.ts";
import type { Logger } from "../logging/logger.ts";
import type { ReconcileQueue } from "./queue.ts";
import { platformShape } from "./reconcile/capacity.ts";
import { NoCapacityError, placeTenant, resizeFits } from "./reconcile/placement.ts";
import { placedInstances } from "./reconcile/store.ts";

export const CAPACITY_RETRY_QUEUE = "capacity-retry";

export interface CapacityRetryDeps {
  readonly db: { readonly pool: pg.Pool };
  readonly queue: Pick<ReconcileQueue, "enqueue">;
  /** The hosts as of now: where new tenants may go, and every known one (a tenant's own). */
  readonly hosts: () => Promise<Pick<HostPool, "schedulable" | "known">>;
  readonly settings: { readonly backup: unknown };
  readonly log: Logger;
}

interface Blocked {
  id: string;
  slug: string;
  customer: string;
  tier: string;
  host: string | null;
  applied: string | null;
}

export async function retryBlockedTenants(deps: CapacityRetryDeps): Promise<string[]> {
  const { rows } = await deps.db.pool.query<Blocked>(
    `select i.id, i.slug, c.stripe_customer_id as customer, i.tier, i.host, i.outputs ->> 'tier' as applied
       from public.instances i join public.customers c on c.id = i.customer_id
      where (i.actual_state = 'waiting_for_capacity' or i.blocked_reason is not null)
        and i.desired_state <> 'deleted' and c.stripe_customer_id is not null
      order by i.created_at`,
  );
  if (rows.length === 0) return [];
  const hosts = await deps.hosts();
  const shape = platformShape(deps.settings);
  const ready: Blocked[] = [];
  for (const row of rows) {
    if (!isTierId(row.tier)) continue;
    const wanted = tenantFootprint(shape(row.tier));
    if (row.host === null) {
      try {
        placeTenant({
          pool: hosts.schedulable,
          placed: await placedInstances(deps.db.pool, row.id),
          demand: wanted,
          current: null,
        });
        ready.push(row);
      } catch (error) {
        if (!(error instanceof NoCapacityError)) throw error;
      }
      continue;
    }
    // A refused change of plan: instances.tier is the plan paid for, the stack's outputs the one it runs.
    const applied = row.applied !== null && isTierId(row.applied) ? row.applied : row.tier;
    const others = (await placedInstances(deps.db.pool, row.id)).filter((p) => p.host === row.host);
    const verdict = resizeFits({
      host: hosts.known.find((h) => h.url === row.host),
      others,
      current: tenantFootprint(shape(applied)),
      next: wanted,
    });
    if (verdict.fits) ready.push(row);
  }
  for (const row of ready) {
    await deps.queue.enqueue({
      customerKey: row.customer,
      trigger: "sweep",
      reason: "capacity: a host has room now",
    });
  }
  if (ready.length > 0)
    deps.log.info("capacity found for waiting tenants", { tenants: ready.map((r) => r.slug) });
  return ready.map((r) => r.slug);
}
