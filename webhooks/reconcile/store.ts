/**
 * The reconcile worker's reads and writes of the platform database, in one
 * place: customers, the subscriptions projection (with its stale-write guard),
 * instances, operations, the audit log and the events' processed mark. Every
 * function takes a pool or a client (inside a transaction), and parses what it
 * reads at this edge.
 */
import type pg from "pg";
import { z } from "zod";
import { isTierId, type TierId } from "../../components/tiers.ts";
import type { FetchedSubscription } from "./stripeSubscriptions.ts";

export type Queryable = pg.Pool | pg.PoolClient;

export const ACTUAL_STATES = [
  "pending",
  "provisioning",
  "running",
  "suspended",
  "deleting",
  "deleted",
  "failed",
] as const;
export type ActualState = (typeof ACTUAL_STATES)[number];
export type DesiredStateColumn = "running" | "suspended" | "deleted";

const date = z.coerce.date();
const tierId = z.string().refine(isTierId, "must be a tier id") as unknown as z.ZodType<TierId>;

const customerRow = z.object({
  id: z.string(),
  stripe_customer_id: z.string().nullable(),
  email: z.string().nullable(),
  display_name: z.string().nullable(),
});
export type CustomerRow = z.infer<typeof customerRow>;

const instanceRow = z.object({
  id: z.string(),
  customer_id: z.string(),
  slug: z.string(),
  tier: tierId,
  desired_state: z.enum(["running", "suspended", "deleted"]),
  actual_state: z.enum(ACTUAL_STATES),
  host: z.string().nullable(),
  stack_name: z.string().nullable(),
  spec_hash: z.string().nullable(),
  applied_spec_hash: z.string().nullable(),
  warning: z.string().nullable(),
  deletion_due_at: date.nullable(),
  last_operation_id: z.string().nullable(),
  last_error: z.string().nullable(),
  outputs: z.record(z.string(), z.unknown()).nullable(),
});
export type InstanceRow = z.infer<typeof instanceRow>;

export async function findCustomer(q: Queryable, stripeCustomerId: string): Promise<CustomerRow | null> {
  const { rows } = await q.query(
    "select id, stripe_customer_id, email, display_name from public.customers where stripe_customer_id = $1",
    [stripeCustomerId],
  );
  return rows[0] ? customerRow.parse(rows[0]) : null;
}

/** Creates the customer row for a Stripe customer, or returns the one a concurrent writer created. */
export async function ensureCustomer(
  q: Queryable,
  c: { stripeCustomerId: string; email: string | null; displayName: string | null },
): Promise<CustomerRow> {
  const { rows } = await q.query(
    `insert into public.customers (stripe_customer_id, email, display_name) values ($1, $2, $3)
     on conflict (stripe_customer_id) do update
       set email = coalesce(public.customers.email, excluded.email),
           display_name = coalesce(public.customers.display_name, excluded.display_name)
     returning id, stripe_customer_id, email, display_name`,
    [c.stripeCustomerId, c.email, c.displayName],
  );
  return customerRow.parse(rows[0]);
}

/**
 * Upserts one subscription of the projection, only when `syncedAt` is newer
 * than what the row holds (the stale-write guard of reference §1.1): a slow
 * reconcile that fetched earlier never overwrites a later one. Returns whether
 * it wrote.
 */
export async function upsertSubscription(
  q: Queryable,
  customerId: string,
  s: FetchedSubscription,
  tier: TierId | null,
  syncedAt: Date,
): Promise<boolean> {
  const { rowCount } = await q.query(
    `insert into public.subscriptions as s (id, customer_id, stripe_customer_id, status, price_id, tier,
        cancel_at_period_end, current_period_end, canceled_at, ended_at, trial_end, stripe_created, last_synced_at)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
     on conflict (id) do update set
        status = excluded.status, price_id = excluded.price_id, tier = excluded.tier,
        cancel_at_period_end = excluded.cancel_at_period_end, current_period_end = excluded.current_period_end,
        canceled_at = excluded.canceled_at, ended_at = excluded.ended_at, trial_end = excluded.trial_end,
        stripe_created = excluded.stripe_created, last_synced_at = excluded.last_synced_at
     where s.last_synced_at < excluded.last_synced_at`,
    [
      s.id,
      customerId,
      s.stripeCustomerId,
      s.status,
      s.priceId,
      tier,
      s.cancelAtPeriodEnd,
      s.currentPeriodEnd,
      s.canceledAt,
      s.endedAt,
      s.trialEnd,
      s.created,
      syncedAt,
    ],
  );
  return (rowCount ?? 0) > 0;
}

const INSTANCE_COLUMNS = `id, customer_id, slug, tier, desired_state, actual_state, host, stack_name, spec_hash,
  applied_spec_hash, warning, deletion_due_at, last_operation_id, last_error, outputs`;

export async function findInstance(q: Queryable, customerId: string): Promise<InstanceRow | null> {
  const { rows } = await q.query(`select ${INSTANCE_COLUMNS} from public.instances where customer_id = $1`, [
    customerId,
  ]);
  return rows[0] ? instanceRow.parse(rows[0]) : null;
}

/** The slug is taken (by another customer): try the next slug attempt. */
export class SlugTakenError extends Error {
  override readonly name = "SlugTakenError";
}

export async function insertInstance(
  q: Queryable,
  i: { customerId: string; slug: string; tier: TierId; desiredState: DesiredStateColumn },
): Promise<InstanceRow> {
  try {
    const { rows } = await q.query(
      `insert into public.instances (customer_id, slug, stack_name, tier, desired_state)
       values ($1, $2, $2, $3, $4) returning ${INSTANCE_COLUMNS}`,
      [i.customerId, i.slug, i.tier, i.desiredState],
    );
    return instanceRow.parse(rows[0]);
  } catch (error) {
    const e = error as { code?: string; constraint?: string };
    if (e.code === "23505" && e.constraint === "instances_slug_key") throw new SlugTakenError(i.slug);
    throw error;
  }
}

/** Tenants that occupy a host: placed and not deleted. */
export async function placedInstances(
  q: Queryable,
  exceptId: string,
): Promise<{ host: string; tier: TierId }[]> {
  const { rows } = await q.query(
    `select host, tier from public.instances
      where host is not null and actual_state <> 'deleted' and id <> $1`,
    [exceptId],
  );
  return z.array(z.object({ host: z.string(), tier: tierId })).parse(rows);
}

export interface InstancePatch {
  readonly tier?: TierId;
  readonly desired_state?: DesiredStateColumn;
  readonly actual_state?: ActualState;
  readonly host?: string | null;
  readonly spec?: unknown;
  readonly spec_hash?: string | null;
  readonly applied_spec_hash?: string | null;
  readonly outputs?: unknown;
  readonly warning?: string | null;
  readonly deletion_due_at?: Date | null;
  readonly last_operation_id?: string | null;
  readonly last_error?: string | null;
}

const JSON_COLUMNS = new Set(["spec", "outputs"]);

export async function updateInstance(q: Queryable, id: string, patch: InstancePatch): Promise<InstanceRow> {
  const entries = Object.entries(patch).filter(([, v]) => v !== undefined);
  const sets = entries.map(([k], n) => `${k} = $${n + 2}`);
  const values = entries.map(([k, v]) => (JSON_COLUMNS.has(k) && v !== null ? JSON.stringify(v) : v));
  const { rows } = await q.query(
    `update public.instances set ${sets.length > 0 ? sets.join(", ") : "updated_at = now()"}
      where id = $1 returning ${INSTANCE_COLUMNS}`,
    [id, ...values],
  );
  return instanceRow.parse(rows[0]);
}

export interface OperationStart {
  readonly instanceId: string;
  readonly kind: "up" | "destroy";
  readonly trigger: string;
  readonly requestedBy: string | null;
  readonly reason: string;
  readonly specHash: string;
}

export async function insertOperation(q: Queryable, o: OperationStart): Promise<string> {
  const { rows } = await q.query(
    `insert into public.operations (instance_id, kind, "trigger", requested_by, reason, spec_hash, status)
     values ($1, $2, $3, $4, $5, $6, 'queued') returning id`,
    [o.instanceId, o.kind, o.trigger, o.requestedBy, o.reason, o.specHash],
  );
  return z.object({ id: z.string() }).parse(rows[0]).id;
}

export async function markOperationRunning(q: Queryable, id: string): Promise<void> {
  await q.query("update public.operations set status = 'running', started_at = now() where id = $1", [id]);
}

export interface OperationProgressSummary {
  readonly step: string;
  readonly done: number;
  readonly total: number;
  readonly message: string;
}

export async function writeOperationProgress(
  q: Queryable,
  id: string,
  progress: OperationProgressSummary,
): Promise<void> {
  await q.query("update public.operations set progress = $2 where id = $1 and status = 'running'", [
    id,
    JSON.stringify(progress),
  ]);
}

export async function finishOperation(
  q: Queryable,
  id: string,
  r: {
    status: "succeeded" | "failed" | "cancelled";
    changes: unknown;
    outputs: unknown;
    error: string | null;
    durationMs: number;
    progress: OperationProgressSummary;
  },
): Promise<void> {
  await q.query(
    `update public.operations set status = $2, changes = $3, outputs = $4, error = $5, duration_ms = $6,
        progress = $7, finished_at = now()
      where id = $1`,
    [
      id,
      r.status,
      JSON.stringify(r.changes),
      r.outputs === undefined || r.outputs === null ? null : JSON.stringify(r.outputs),
      r.error,
      Math.round(r.durationMs),
      JSON.stringify(r.progress),
    ],
  );
}

export interface AuditEntry {
  readonly actor: string;
  readonly customerId: string | null;
  readonly instanceId: string | null;
  readonly action: string;
  readonly reason: string;
  readonly details?: Record<string, unknown>;
}

export async function audit(q: Queryable, a: AuditEntry): Promise<void> {
  await q.query(
    `insert into public.audit_log (actor, customer_id, instance_id, action, reason, details)
     values ($1, $2, $3, $4, $5, $6)`,
    [a.actor, a.customerId, a.instanceId, a.action, a.reason, a.details ? JSON.stringify(a.details) : null],
  );
}

/** Every event about this customer received before `before` is handled by a reconcile that started after it. */
export async function markEventsProcessed(
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

export async function markEventFailed(q: Queryable, eventId: string, error: string): Promise<void> {
  await q.query("update public.stripe_events set error = $2 where id = $1 and processed_at is null", [
    eventId,
    error.slice(0, 2000),
  ]);
}

/** One transaction on a pooled client: committed when `fn` returns, rolled back when it throws. */
export async function transaction<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query("begin");
    const result = await fn(client);
    await client.query("commit");
    return result;
  } catch (error) {
    await client.query("rollback").catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}
