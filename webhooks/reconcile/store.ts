/**
 * The few reads and writes the reconcile worker and the sweep need beyond the
 * database helper's repositories (database/*.ts): host occupancy for
 * placement, marking a customer's events handled, and the sweep's view of
 * instances.
 */
import { z } from "zod";
import { type TenantShape, TIER_IDS, type TierId, tenantFootprint } from "../../components/tiers.ts";
import type { Queryable } from "../../database/connection.ts";
import { ACTUAL_STATES, DESIRED_STATES } from "../../database/instanceStates.ts";
import type { Placement } from "./placement.ts";

const tierId = z.enum(TIER_IDS);

/** A placed tenant's shape, from its spec (a tenant placed before its first spec: the defaults). */
export function shapeOf(tier: TierId, spec: unknown): TenantShape {
  const parsed = z
    .object({
      homeserver: z.enum(["tuwunel", "synapse"]).catch("tuwunel"),
      backups: z.object({ enabled: z.boolean() }).catch({ enabled: false }),
    })
    .catch({ homeserver: "tuwunel", backups: { enabled: false } })
    .parse(spec ?? {});
  return { tier, homeserver: parsed.homeserver, backups: parsed.backups.enabled };
}

/**
 * Tenants that occupy a host, with what their processes take: placed and not
 * deleted (`exceptId`, the instance being placed or resized, left out).
 */
export async function placedInstances(q: Queryable, exceptId: string | null): Promise<Placement[]> {
  const { rows } = await q.query(
    `select host, tier, spec from public.instances
      where host is not null and actual_state <> 'deleted' and id is distinct from $1`,
    [exceptId],
  );
  return z
    .array(z.object({ host: z.string(), tier: tierId, spec: z.unknown() }))
    .parse(rows)
    .map((row) => {
      const { memoryMb, cpus } = tenantFootprint(shapeOf(row.tier, row.spec));
      return { host: row.host, memoryMb, cpus };
    });
}

/**
 * Every event about this customer received before `before` is handled: a
 * reconcile that started after it re-read everything those events announced.
 */
export async function markCustomerEventsProcessed(
  q: Queryable,
  stripeCustomerId: string,
  before: Date,
): Promise<void> {
  await q.query(
    `update public.stripe_events set processed_at = now(), error = null
      where customer_id = $1 and processed_at is null and received_at <= $2`,
    [stripeCustomerId, before],
  );
}

/** Notes why the event's reconcile failed (it stays unprocessed; the queue retries). */
export async function noteEventError(q: Queryable, eventId: string, error: string): Promise<void> {
  await q.query("update public.stripe_events set error = $2 where id = $1 and processed_at is null", [
    eventId,
    error.slice(0, 2000),
  ]);
}

/** An instance as the sweep compares it: with its Stripe customer and the projected statuses. */
export interface SweptInstance {
  readonly id: string;
  readonly stripeCustomerId: string;
  readonly slug: string;
  readonly tier: TierId;
  readonly desiredState: "running" | "suspended" | "deleted";
  readonly actualState: string;
  readonly specHash: string | null;
  readonly appliedSpecHash: string | null;
  readonly deletionDueAt: Date | null;
  readonly lastError: string | null;
  readonly hold: { readonly reason: string } | null;
  readonly updatedAt: Date;
  /** Subscription id → status, as the projection holds them. */
  readonly projection: ReadonlyMap<string, string>;
}

const sweptRow = z.object({
  id: z.string(),
  stripe_customer_id: z.string(),
  slug: z.string(),
  tier: tierId,
  desired_state: z.enum(DESIRED_STATES),
  actual_state: z.enum(ACTUAL_STATES),
  spec_hash: z.string().nullable(),
  applied_spec_hash: z.string().nullable(),
  deletion_due_at: z.coerce.date().nullable(),
  last_error: z.string().nullable(),
  hold_reason: z.string().nullable(),
  updated_at: z.coerce.date(),
  projection: z.record(z.string(), z.string()).nullable(),
});

/** Every instance of a Stripe customer, with its projected subscription statuses (one query). */
export async function sweptInstances(q: Queryable): Promise<SweptInstance[]> {
  const { rows } = await q.query(
    `select i.id, c.stripe_customer_id, i.slug, i.tier, i.desired_state, i.actual_state, i.spec_hash,
            i.applied_spec_hash, i.deletion_due_at, i.last_error, i.hold_reason, i.updated_at,
            (select jsonb_object_agg(s.id, s.status) from public.subscriptions s where s.customer_id = c.id)
              as projection
       from public.instances i join public.customers c on c.id = i.customer_id
      where c.stripe_customer_id is not null`,
  );
  return z
    .array(sweptRow)
    .parse(rows)
    .map((r) => ({
      id: r.id,
      stripeCustomerId: r.stripe_customer_id,
      slug: r.slug,
      tier: r.tier,
      desiredState: r.desired_state,
      actualState: r.actual_state,
      specHash: r.spec_hash,
      appliedSpecHash: r.applied_spec_hash,
      deletionDueAt: r.deletion_due_at,
      lastError: r.last_error,
      hold: r.hold_reason === null ? null : { reason: r.hold_reason },
      updatedAt: r.updated_at,
      projection: new Map(Object.entries(r.projection ?? {})),
    }));
}

/** Stripe customers with events received before `before` and still unprocessed. */
export async function unprocessedEventCustomers(q: Queryable, before: Date): Promise<string[]> {
  const { rows } = await q.query(
    `select distinct customer_id from public.stripe_events
      where processed_at is null and customer_id is not null and received_at < $1`,
    [before],
  );
  return z
    .array(z.object({ customer_id: z.string() }))
    .parse(rows)
    .map((r) => r.customer_id);
}

/**
 * Operations of this instance still queued or running whose holder is gone
 * (the tenant lease they ran under is released or expired: their worker died
 * or stopped) are marked failed, so the record says what happened. One whose
 * lease is still held is running somewhere and is left alone. Called by a
 * reconcile that holds the tenant's lease itself.
 */
export async function failInterruptedOperations(q: Queryable, instanceId: string): Promise<number> {
  const { rowCount } = await q.query(
    `update public.operations o set status = 'failed', finished_at = clock_timestamp(),
        error = 'interrupted: the worker stopped during the operation; a retry took over',
        duration_ms = round(extract(epoch from clock_timestamp() - coalesce(started_at, created_at)) * 1000)
      where instance_id = $1 and status in ('queued', 'running')
        and not exists (
          select 1 from automation.tenant_leases l
           where l.holder = o.lease_holder and l.released_at is null and l.expires_at > clock_timestamp())`,
    [instanceId],
  );
  return rowCount ?? 0;
}
