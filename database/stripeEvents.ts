/**
 * The Stripe event log, which is also the idempotency guard: the event id is
 * the primary key, so recording a redelivered event inserts nothing and the
 * webhook answers 200 without enqueueing twice.
 */
import type { Queryable } from "./connection.ts";
import { type JsonObject, jsonb, parseJsonObject } from "./jsonColumns.ts";

export interface StripeEventRecord {
  /** `evt_…` */
  readonly id: string;
  readonly type: string;
  readonly stripeCreated: Date | null;
  readonly livemode: boolean | null;
  /** The Stripe customer (`cus_…`) the event concerns, when known. */
  readonly customerId: string | null;
  /** The id of the event's `data.object`. */
  readonly objectId: string | null;
  readonly payload: JsonObject;
  readonly receivedAt: Date;
  readonly processedAt: Date | null;
  readonly error: string | null;
}

interface StripeEventRow {
  id: string;
  type: string;
  stripe_created: Date | null;
  livemode: boolean | null;
  customer_id: string | null;
  object_id: string | null;
  payload: unknown;
  received_at: Date;
  processed_at: Date | null;
  error: string | null;
}

function fromRow(row: StripeEventRow): StripeEventRecord {
  return {
    id: row.id,
    type: row.type,
    stripeCreated: row.stripe_created,
    livemode: row.livemode,
    customerId: row.customer_id,
    objectId: row.object_id,
    payload: parseJsonObject(row.payload, "stripe_events.payload") ?? {},
    receivedAt: row.received_at,
    processedAt: row.processed_at,
    error: row.error,
  };
}

export interface NewStripeEvent {
  readonly id: string;
  readonly type: string;
  readonly stripeCreated?: Date | null;
  readonly livemode?: boolean | null;
  readonly customerId?: string | null;
  readonly objectId?: string | null;
  /** The event: an object, or the verified raw body text (stored as received, no re-serialising). */
  readonly payload: JsonObject | string;
}

/**
 * Inserts every event whose id is not recorded yet, in one prepared statement, and returns the ids
 * it inserted: an id already recorded, or repeated in `events`, is inserted once (its first
 * occurrence). Events in `processed` are recorded as already handled (nothing to reconcile).
 */
export async function recordEvents(
  db: Queryable,
  events: readonly NewStripeEvent[],
  processed: ReadonlySet<string> = new Set(),
): Promise<Set<string>> {
  if (events.length === 0) return new Set();
  const { rows } = await db.query<{ id: string }>({
    name: "record_stripe_events",
    text: `insert into public.stripe_events
             (id, type, stripe_created, livemode, customer_id, object_id, payload, processed_at)
           select e.id, e.type, e.stripe_created, e.livemode, e.customer_id, e.object_id, e.payload::jsonb,
                  case when e.processed then now() end
             from unnest($1::text[], $2::text[], $3::timestamptz[], $4::boolean[], $5::text[], $6::text[],
                         $7::text[], $8::boolean[])
                  with ordinality as e(id, type, stripe_created, livemode, customer_id, object_id, payload,
                                       processed, n)
            order by e.n
           on conflict (id) do nothing
           returning id`,
    values: [
      events.map((e) => e.id),
      events.map((e) => e.type),
      events.map((e) => e.stripeCreated ?? null),
      events.map((e) => e.livemode ?? null),
      events.map((e) => e.customerId ?? null),
      events.map((e) => e.objectId ?? null),
      events.map((e) => jsonb(e.payload)),
      events.map((e) => processed.has(e.id)),
    ],
  });
  return new Set(rows.map((row) => row.id));
}

/** Marks an event handled (`error` set when handling it failed for good; cleared on success). */
export async function markProcessed(db: Queryable, id: string, error: string | null = null): Promise<void> {
  await db.query("update public.stripe_events set processed_at = now(), error = $2 where id = $1", [
    id,
    error,
  ]);
}

export async function findEvent(db: Queryable, id: string): Promise<StripeEventRecord | null> {
  const { rows } = await db.query<StripeEventRow>("select * from public.stripe_events where id = $1", [id]);
  return rows[0] ? fromRow(rows[0]) : null;
}

/** Events received but not processed, oldest first (what the sweep re-enqueues). */
export async function unprocessedEvents(db: Queryable, limit = 500): Promise<StripeEventRecord[]> {
  const { rows } = await db.query<StripeEventRow>(
    "select * from public.stripe_events where processed_at is null order by received_at limit $1",
    [limit],
  );
  return rows.map(fromRow);
}

/** How many of a Stripe customer's events are received but not yet handled by a reconcile. */
export async function unprocessedCountForCustomer(db: Queryable, stripeCustomerId: string): Promise<number> {
  const { rows } = await db.query<{ n: number }>(
    "select count(*)::int as n from public.stripe_events where customer_id = $1 and processed_at is null",
    [stripeCustomerId],
  );
  return rows[0]?.n ?? 0;
}
