/**
 * The truth about a customer, read from Stripe's API at reconcile time (never
 * from a webhook payload, which may be stale, duplicated or out of order):
 * every subscription of the customer, any status, every page.
 */
import type Stripe from "stripe";
import { type BackoffOptions, withStripeBackoff } from "../../billing/stripeBackoff.ts";
import { STRIPE_STATUSES, type StripeStatus, type SubscriptionSnapshot } from "./desiredState.ts";

export type StripeReader = Pick<Stripe, "subscriptions" | "customers">;

export interface StripeCustomerFacts {
  readonly email: string | null;
  readonly name: string | null;
  /** Deleted in Stripe: its subscriptions are canceled, so its tenant goes the deletion way. */
  readonly deleted: boolean;
}

/** What the worker keeps of one subscription (the snapshot plus the projection's extra columns). */
export interface FetchedSubscription extends SubscriptionSnapshot {
  readonly stripeCustomerId: string;
  readonly canceledAt: Date | null;
  readonly trialEnd: Date | null;
}

export async function fetchSubscriptions(
  stripe: StripeReader,
  customerId: string,
  backoff: BackoffOptions = {},
): Promise<FetchedSubscription[]> {
  const out: FetchedSubscription[] = [];
  for await (const sub of listSubscriptions(stripe, { customer: customerId }, backoff))
    out.push(snapshot(sub));
  return out;
}

/**
 * Every subscription (any status) matching `filter`, newest first, page by page: Stripe's largest
 * page (100) and `starting_after` the last id seen, each page tried again on a 429 (stripeBackoff.ts),
 * so a fleet's list stays within Stripe's rate limit whatever else calls it.
 */
export async function* listSubscriptions(
  stripe: Pick<Stripe, "subscriptions">,
  filter: { readonly customer?: string } = {},
  backoff: BackoffOptions = {},
): AsyncGenerator<Stripe.Subscription> {
  let after: string | undefined;
  for (;;) {
    const cursor = after;
    const page = await withStripeBackoff(
      () =>
        stripe.subscriptions.list({
          ...filter,
          status: "all",
          limit: 100,
          ...(cursor ? { starting_after: cursor } : {}),
        }),
      backoff,
    );
    yield* page.data;
    after = page.data.at(-1)?.id;
    if (!page.has_more || !after) return;
  }
}

export async function fetchCustomer(
  stripe: StripeReader,
  customerId: string,
  backoff: BackoffOptions = {},
): Promise<StripeCustomerFacts> {
  const customer = await withStripeBackoff(() => stripe.customers.retrieve(customerId), backoff);
  if ("deleted" in customer && customer.deleted) return { email: null, name: null, deleted: true };
  const c = customer as Stripe.Customer;
  return { email: c.email ?? null, name: c.name ?? null, deleted: false };
}

export function snapshot(sub: Stripe.Subscription): FetchedSubscription {
  const item = sub.items.data[0];
  const date = (seconds: number | null | undefined) =>
    typeof seconds === "number" ? new Date(seconds * 1000) : null;
  return {
    id: sub.id,
    stripeCustomerId: typeof sub.customer === "string" ? sub.customer : sub.customer.id,
    status: parseStatus(sub.id, sub.status),
    priceId: item?.price.id ?? null,
    cancelAtPeriodEnd: sub.cancel_at_period_end,
    // Since API 2025-03-31.basil the period lives on the items (reference §1.5).
    currentPeriodEnd: date(item?.current_period_end),
    endedAt: date(sub.ended_at),
    canceledAt: date(sub.canceled_at),
    trialEnd: date(sub.trial_end),
    created: new Date(sub.created * 1000),
  };
}

function parseStatus(id: string, status: string): StripeStatus {
  if ((STRIPE_STATUSES as readonly string[]).includes(status)) return status as StripeStatus;
  throw new Error(
    `subscription ${id} has status ${status}, which this platform does not know: update desiredState.ts`,
  );
}
