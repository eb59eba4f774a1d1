/**
 * What a customer's tenant should be, decided from the subscriptions as Stripe
 * reports them now (re-fetched, never a webhook payload) and the instance row.
 * Pure: the reconcile worker and the sweep both call it, and its table-driven
 * tests cover every Stripe status.
 *
 * Access policy (reference §1.4): `active`/`trialing` run; `past_due` runs with
 * a warning while Stripe retries; `unpaid`/`paused`/`incomplete_expired` are
 * suspended with data kept; `incomplete` is not provisioned yet; `canceled` (or
 * no subscription left while an instance exists) is suspended until the
 * deletion grace has passed since it ended, then deleted. A resubscription
 * before that wins and cancels the deletion.
 *
 * An operator's hold suspends a tenant that would otherwise run (data kept); it
 * never delays a deletion, and lifting it lets the subscription decide again.
 */

import { isTierId, type TierId } from "../../components/tiers.ts";
import type { SubscriptionStatus as StripeStatus } from "../../database/subscriptions.ts";

// Stripe's subscription statuses, as the subscriptions table keeps them.
export {
  SUBSCRIPTION_STATUSES as STRIPE_STATUSES,
  type SubscriptionStatus as StripeStatus,
} from "../../database/subscriptions.ts";

/** One subscription as the worker re-fetched it from Stripe, reduced to what decisions read. */
export interface SubscriptionSnapshot {
  readonly id: string;
  readonly status: StripeStatus;
  /** The first item's price; a MindRoom subscription has exactly one. */
  readonly priceId: string | null;
  readonly cancelAtPeriodEnd: boolean;
  readonly currentPeriodEnd: Date | null;
  readonly endedAt: Date | null;
  readonly created: Date;
}

/** The parts of an existing instance row that decisions read. */
export interface InstanceSnapshot {
  readonly tier: TierId;
  readonly deletionDueAt: Date | null;
  /** True once the tenant was destroyed; a resubscription then provisions it again under the same slug. */
  readonly deleted: boolean;
  /** An operator's suspension (instances.held_at / hold_reason), or null. */
  readonly hold: { readonly reason: string } | null;
}

/** The decision's view of an instance row: one mapping for the worker and the sweep. */
export function instanceSnapshot(row: {
  readonly tier: string;
  readonly deletionDueAt: Date | null;
  readonly actualState: string;
  readonly hold: { readonly reason: string } | null;
}): InstanceSnapshot {
  return {
    // A tier the catalog no longer has is decided as free until the subscription names one.
    tier: isTierId(row.tier) ? row.tier : "free",
    deletionDueAt: row.deletionDueAt,
    deleted: row.actualState === "deleted",
    hold: row.hold ? { reason: row.hold.reason } : null,
  };
}

export type PriceTiers = ReadonlyMap<string, TierId>;

export type DesiredTenant =
  /** Nothing to provision or keep. */
  | { readonly state: "absent"; readonly reason: string }
  | {
      readonly state: "running";
      readonly tier: TierId;
      readonly subscriptionId: string;
      /** Shown to the customer (payment past due, cancellation at period end). */
      readonly warning: string | null;
      readonly reason: string;
    }
  | {
      readonly state: "suspended";
      readonly tier: TierId;
      readonly subscriptionId: string | null;
      /** Set while a deletion is scheduled (cancelled, grace not over). */
      readonly deletionDueAt: Date | null;
      readonly reason: string;
    }
  | {
      readonly state: "deleted";
      readonly tier: TierId;
      readonly deletionDueAt: Date;
      readonly reason: string;
    };

/** A subscription's price is not in the catalog: deciding a tier would be a guess. */
export class UnknownPriceError extends Error {
  override readonly name = "UnknownPriceError";
  readonly priceId: string | null;
  readonly subscriptionId: string;
  constructor(subscriptionId: string, priceId: string | null) {
    super(
      priceId === null
        ? `subscription ${subscriptionId} has no price: a MindRoom subscription needs exactly one item`
        : `subscription ${subscriptionId} uses price ${priceId}, which maps to no tier: add "${priceId}=<tier>" to STRIPE_PRICE_TIERS`,
    );
    this.priceId = priceId;
    this.subscriptionId = subscriptionId;
  }
}

export interface DesiredStateInput {
  readonly subscriptions: readonly SubscriptionSnapshot[];
  readonly instance: InstanceSnapshot | null;
  readonly now: Date;
  readonly deletionGraceMs: number;
  readonly priceTiers: PriceTiers;
}

/**
 * Which subscription speaks for the customer: the most entitled, then the newest, then the one
 * that ended last (Stripe's `created` has whole seconds: a resubscription may share its second).
 */
const RANK: { readonly [S in StripeStatus]: number } = {
  active: 6,
  trialing: 6,
  past_due: 5,
  unpaid: 4,
  paused: 4,
  incomplete_expired: 3,
  incomplete: 2,
  canceled: 1,
};

export function governingSubscription(
  subscriptions: readonly SubscriptionSnapshot[],
): SubscriptionSnapshot | undefined {
  return [...subscriptions].sort(
    (a, b) =>
      RANK[b.status] - RANK[a.status] ||
      b.created.getTime() - a.created.getTime() ||
      (b.endedAt?.getTime() ?? 0) - (a.endedAt?.getTime() ?? 0) ||
      a.id.localeCompare(b.id),
  )[0];
}

export function desiredState(input: DesiredStateInput): DesiredTenant {
  const decided = fromSubscriptions(input);
  const hold = input.instance?.hold;
  if (decided.state !== "running" || !hold) return decided;
  return {
    state: "suspended",
    tier: decided.tier,
    subscriptionId: decided.subscriptionId,
    deletionDueAt: null,
    reason: `held by an operator (${hold.reason}); ${decided.reason}`,
  };
}

function fromSubscriptions(input: DesiredStateInput): DesiredTenant {
  const { instance } = input;
  const live = instance !== null && !instance.deleted;
  // An incomplete subscription is a payment still pending: it neither provisions
  // nor, for an existing tenant, overrides what the other subscriptions say.
  const sub = governingSubscription(input.subscriptions.filter((s) => s.status !== "incomplete"));
  const pending = input.subscriptions.find((s) => s.status === "incomplete");

  if (!sub || sub.status === "canceled") {
    if (!live) {
      return {
        state: "absent",
        reason: pending
          ? `subscription ${pending.id} is incomplete: waiting for the first payment`
          : sub
            ? `subscription ${sub.id} is canceled and no instance exists`
            : "no subscription and no instance",
      };
    }
    const tierId = sub ? tierOf(sub, input.priceTiers) : instance.tier;
    const dueAt = sub?.endedAt
      ? new Date(sub.endedAt.getTime() + input.deletionGraceMs)
      : (instance.deletionDueAt ?? new Date(input.now.getTime() + input.deletionGraceMs));
    const why = sub ? `subscription ${sub.id} is canceled` : "no subscription is left";
    if (input.now.getTime() >= dueAt.getTime()) {
      return {
        state: "deleted",
        tier: tierId,
        deletionDueAt: dueAt,
        reason: `${why}; the deletion grace ended ${dueAt.toISOString()}`,
      };
    }
    return {
      state: "suspended",
      tier: tierId,
      subscriptionId: sub?.id ?? null,
      deletionDueAt: dueAt,
      reason: `${why}; data kept until ${dueAt.toISOString()}, then deleted`,
    };
  }

  const tierId = tierOf(sub, input.priceTiers);
  switch (sub.status) {
    case "active":
    case "trialing":
      return {
        state: "running",
        tier: tierId,
        subscriptionId: sub.id,
        warning: sub.cancelAtPeriodEnd ? `subscription ends ${periodEnd(sub)}` : null,
        reason: `subscription ${sub.id} is ${sub.status}`,
      };
    case "past_due":
      return {
        state: "running",
        tier: tierId,
        subscriptionId: sub.id,
        warning: `payment past due: update the payment method before Stripe's retries end${
          sub.cancelAtPeriodEnd ? `; subscription ends ${periodEnd(sub)}` : ""
        }`,
        reason: `subscription ${sub.id} is past_due`,
      };
    case "unpaid":
    case "paused":
    case "incomplete_expired":
      if (!live) {
        return { state: "absent", reason: `subscription ${sub.id} is ${sub.status} and no instance exists` };
      }
      return {
        state: "suspended",
        tier: tierId,
        subscriptionId: sub.id,
        deletionDueAt: null,
        reason: `subscription ${sub.id} is ${sub.status}: suspended, data kept`,
      };
    case "incomplete":
      throw new Error(`subscription ${sub.id}: ${sub.status} is decided above`);
    default:
      return unreachable(sub.status);
  }
}

function tierOf(sub: SubscriptionSnapshot, priceTiers: PriceTiers): TierId {
  const tierId = sub.priceId === null ? undefined : priceTiers.get(sub.priceId);
  if (!tierId) throw new UnknownPriceError(sub.id, sub.priceId);
  return tierId;
}

function periodEnd(sub: SubscriptionSnapshot): string {
  return sub.currentPeriodEnd ? `at period end (${sub.currentPeriodEnd.toISOString()})` : "at period end";
}

function unreachable(value: never): never {
  throw new Error(`unhandled subscription status ${String(value)}`);
}
