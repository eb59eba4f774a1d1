/**
 * The projection of Stripe subscriptions. The worker re-fetches a subscription
 * from Stripe and writes it here with the time that data was true
 * (`lastSyncedAt`: the event's `created`, or the fetch time); a write carrying
 * an older time than the stored one is ignored, so events arriving out of order
 * or days late never roll the row back.
 */
import type { Queryable } from "./connection.ts";

export const SUBSCRIPTION_STATUSES = [
  "incomplete",
  "incomplete_expired",
  "trialing",
  "active",
  "past_due",
  "canceled",
  "unpaid",
  "paused",
] as const;
export type SubscriptionStatus = (typeof SUBSCRIPTION_STATUSES)[number];

/** A subscription in these states still exists at Stripe: its plan can change, it can be cancelled. */
export const LIVE_SUBSCRIPTION_STATUSES: readonly SubscriptionStatus[] = [
  "active",
  "trialing",
  "past_due",
  "unpaid",
  "paused",
  "incomplete",
];
/** Paid (or on trial): the customer is entitled to a running instance. */
export const PAID_SUBSCRIPTION_STATUSES: readonly SubscriptionStatus[] = ["active", "trialing"];

export function isLiveSubscription(status: string): boolean {
  return (LIVE_SUBSCRIPTION_STATUSES as readonly string[]).includes(status);
}

export function isPaidSubscription(status: string): boolean {
  return (PAID_SUBSCRIPTION_STATUSES as readonly string[]).includes(status);
}

/** What the worker writes: the subscription as Stripe reports it. */
export interface SubscriptionProjection {
  /** Stripe subscription id (`sub_…`). */
  readonly id: string;
  readonly customerId: string;
  readonly stripeCustomerId: string;
  readonly status: SubscriptionStatus;
  readonly priceId: string | null;
  readonly tier: string | null;
  readonly cancelAtPeriodEnd: boolean;
  readonly currentPeriodEnd: Date | null;
  readonly canceledAt: Date | null;
  readonly endedAt: Date | null;
  readonly trialEnd: Date | null;
  readonly stripeCreated: Date | null;
  readonly lastSyncedAt: Date;
}

export interface Subscription extends SubscriptionProjection {
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

interface SubscriptionRow {
  id: string;
  customer_id: string;
  stripe_customer_id: string;
  status: SubscriptionStatus;
  price_id: string | null;
  tier: string | null;
  cancel_at_period_end: boolean;
  current_period_end: Date | null;
  canceled_at: Date | null;
  ended_at: Date | null;
  trial_end: Date | null;
  stripe_created: Date | null;
  last_synced_at: Date;
  created_at: Date;
  updated_at: Date;
}

function fromRow(row: SubscriptionRow): Subscription {
  return {
    id: row.id,
    customerId: row.customer_id,
    stripeCustomerId: row.stripe_customer_id,
    status: row.status,
    priceId: row.price_id,
    tier: row.tier,
    cancelAtPeriodEnd: row.cancel_at_period_end,
    currentPeriodEnd: row.current_period_end,
    canceledAt: row.canceled_at,
    endedAt: row.ended_at,
    trialEnd: row.trial_end,
    stripeCreated: row.stripe_created,
    lastSyncedAt: row.last_synced_at,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/**
 * Inserts or updates a subscription unless the stored row is at least as
 * recent (`last_synced_at >= lastSyncedAt`). `applied` says whether it wrote.
 */
export async function upsertSubscription(
  db: Queryable,
  subscription: SubscriptionProjection,
): Promise<{ applied: boolean }> {
  const s = subscription;
  const { rowCount } = await db.query(
    `insert into public.subscriptions (
       id, customer_id, stripe_customer_id, status, price_id, tier, cancel_at_period_end,
       current_period_end, canceled_at, ended_at, trial_end, stripe_created, last_synced_at)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
     on conflict (id) do update set
       customer_id = excluded.customer_id,
       stripe_customer_id = excluded.stripe_customer_id,
       status = excluded.status,
       price_id = excluded.price_id,
       tier = excluded.tier,
       cancel_at_period_end = excluded.cancel_at_period_end,
       current_period_end = excluded.current_period_end,
       canceled_at = excluded.canceled_at,
       ended_at = excluded.ended_at,
       trial_end = excluded.trial_end,
       stripe_created = excluded.stripe_created,
       last_synced_at = excluded.last_synced_at
     where subscriptions.last_synced_at < excluded.last_synced_at`,
    [
      s.id,
      s.customerId,
      s.stripeCustomerId,
      s.status,
      s.priceId,
      s.tier,
      s.cancelAtPeriodEnd,
      s.currentPeriodEnd,
      s.canceledAt,
      s.endedAt,
      s.trialEnd,
      s.stripeCreated,
      s.lastSyncedAt,
    ],
  );
  return { applied: rowCount === 1 };
}

export async function findSubscription(db: Queryable, id: string): Promise<Subscription | null> {
  const { rows } = await db.query<SubscriptionRow>("select * from public.subscriptions where id = $1", [id]);
  return rows[0] ? fromRow(rows[0]) : null;
}

/** A customer's subscriptions, newest first (by Stripe's creation time). */
export async function subscriptionsForCustomer(db: Queryable, customerId: string): Promise<Subscription[]> {
  const { rows } = await db.query<SubscriptionRow>(
    `select * from public.subscriptions where customer_id = $1
     order by stripe_created desc nulls last, created_at desc`,
    [customerId],
  );
  return rows.map(fromRow);
}

/**
 * A renewal moves each subscription's period end forward (never back: renewal events may arrive
 * out of order), without a reconcile; the next full sync from Stripe overwrites it as usual.
 */
export async function advancePeriodEnds(
  db: Queryable,
  periods: readonly { readonly subscriptionId: string; readonly periodEnd: Date }[],
): Promise<void> {
  if (periods.length === 0) return;
  await db.query({
    name: "advance_period_ends",
    text: `update public.subscriptions s set current_period_end = p.period_end
             from unnest($1::text[], $2::timestamptz[]) as p(id, period_end)
            where s.id = p.id and (s.current_period_end is null or s.current_period_end < p.period_end)`,
    values: [periods.map((p) => p.subscriptionId), periods.map((p) => p.periodEnd)],
  });
}
