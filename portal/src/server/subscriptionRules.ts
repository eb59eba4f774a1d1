/**
 * One live subscription per customer, decided from what Stripe says the customer has (every
 * subscription of the Stripe customer, listed from Stripe), never from our projection alone: the
 * projection lags a webhook behind, and a subscription made behind the portal's back (the
 * Dashboard, a second Checkout tab) is in Stripe only. Pure functions; billingActions.ts does the
 * I/O.
 */
import { isLiveSubscription } from "../../../database/subscriptions.ts";

/** What the rules need of one Stripe subscription. */
export interface StripeSubscriptionFacts {
  readonly id: string;
  readonly status: string;
  readonly priceId: string | null;
  readonly cancelAtPeriodEnd: boolean;
}

/**
 * A subscription that bills or will bill: a second Checkout beside it would charge twice.
 * `incomplete` is left out: its first payment never went through (it expires after 23 h), so it
 * is cancelled to make way for a new Checkout rather than blocking one.
 */
export function isBilling(sub: StripeSubscriptionFacts): boolean {
  return isLiveSubscription(sub.status) && sub.status !== "incomplete";
}

export type PlanDecision =
  /** No subscription bills: open Checkout after cancelling these abandoned first attempts. */
  | { readonly kind: "checkout"; readonly cancelFirst: readonly string[] }
  | { readonly kind: "already-on-plan" }
  /** The one billing subscription, the one the customer sees, moves to the new price. */
  | { readonly kind: "change-plan"; readonly subscriptionId: string }
  /**
   * Checkout refused: a subscription bills that the customer's page does not show yet (the
   * webhook has not caught up), or several bill at once. Nothing is bought or changed; the
   * customer changes plan once the page shows it, or in the Billing Portal.
   */
  | { readonly kind: "refuse"; readonly billing: readonly StripeSubscriptionFacts[] };

/**
 * @param subscriptions every subscription of the Stripe customer, from Stripe
 * @param shown the subscription the customer's page shows as live (our projection), if any
 * @param price the price of the plan they chose
 */
export function decidePlan(
  subscriptions: readonly StripeSubscriptionFacts[],
  shown: string | null,
  price: string,
): PlanDecision {
  const billing = subscriptions.filter(isBilling);
  if (billing.length === 0)
    return {
      kind: "checkout",
      cancelFirst: subscriptions.filter((s) => s.status === "incomplete").map((s) => s.id),
    };
  const [only] = billing;
  if (billing.length > 1 || !only || only.id !== shown) return { kind: "refuse", billing };
  if (only.priceId === price) return { kind: "already-on-plan" };
  return { kind: "change-plan", subscriptionId: only.id };
}

/**
 * What a cancellation at period end touches: every billing subscription not already ending, and
 * abandoned first attempts (ended now: nothing was paid for them).
 */
export function cancellationPlan(subscriptions: readonly StripeSubscriptionFacts[]): {
  readonly endAtPeriodEnd: readonly string[];
  readonly endNow: readonly string[];
} {
  return {
    endAtPeriodEnd: subscriptions.filter((s) => isBilling(s) && !s.cancelAtPeriodEnd).map((s) => s.id),
    endNow: subscriptions.filter((s) => s.status === "incomplete").map((s) => s.id),
  };
}

/** What account deletion ends now: every subscription Stripe still has open, whatever our table shows. */
export function subscriptionsToEnd(subscriptions: readonly StripeSubscriptionFacts[]): readonly string[] {
  return subscriptions.filter((s) => isLiveSubscription(s.status)).map((s) => s.id);
}
