/** The pure rules behind "one live subscription per customer" (server/subscriptionRules.ts), for every Stripe status. */
import { describe, expect, it } from "vitest";
import { SUBSCRIPTION_STATUSES } from "../../database/subscriptions.ts";
import {
  cancellationPlan,
  decidePlan,
  isBilling,
  type StripeSubscriptionFacts,
  subscriptionsToEnd,
} from "../src/server/subscriptionRules.ts";

const STARTER = "price_starter";
const PRO = "price_pro";

function sub(
  id: string,
  status: string,
  priceId = STARTER,
  cancelAtPeriodEnd = false,
): StripeSubscriptionFacts {
  return { id, status, priceId, cancelAtPeriodEnd };
}

describe("isBilling", () => {
  it.each(SUBSCRIPTION_STATUSES)("%s", (status) => {
    const billing = ["active", "trialing", "past_due", "unpaid", "paused"].includes(status);
    expect(isBilling(sub("s", status))).toBe(billing);
  });
});

describe("decidePlan", () => {
  it("opens Checkout when nothing bills, cancelling abandoned first attempts first", () => {
    expect(decidePlan([], null, STARTER)).toEqual({ kind: "checkout", cancelFirst: [] });
    expect(
      decidePlan(
        [
          sub("a", "canceled"),
          sub("b", "incomplete"),
          sub("c", "incomplete_expired"),
          sub("d", "incomplete"),
        ],
        null,
        STARTER,
      ),
    ).toEqual({ kind: "checkout", cancelFirst: ["b", "d"] });
  });

  it("changes the one shown, billing subscription in place, or does nothing on the same plan", () => {
    for (const status of ["active", "trialing", "past_due", "unpaid", "paused"]) {
      const subs = [sub("old", "canceled", PRO), sub("s", status)];
      expect(decidePlan(subs, "s", PRO)).toEqual({ kind: "change-plan", subscriptionId: "s" });
      expect(decidePlan(subs, "s", STARTER)).toEqual({ kind: "already-on-plan" });
    }
  });

  it("refuses Checkout for a billing subscription the page does not show, or for several", () => {
    const live = sub("s", "active");
    expect(decidePlan([live], null, PRO)).toEqual({ kind: "refuse", billing: [live] });
    expect(decidePlan([live], "other", STARTER)).toEqual({ kind: "refuse", billing: [live] });
    const two = [live, sub("t", "past_due", PRO)];
    expect(decidePlan(two, "s", PRO)).toEqual({ kind: "refuse", billing: two });
  });
});

describe("ending", () => {
  const subs = [
    sub("active", "active"),
    sub("ending", "active", STARTER, true),
    sub("late", "past_due"),
    sub("unpaid", "unpaid"),
    sub("paused", "paused"),
    sub("trial", "trialing"),
    sub("first", "incomplete"),
    sub("gone", "canceled"),
    sub("expired", "incomplete_expired"),
  ];

  it("cancel at period end touches every billing subscription not already ending; abandoned first attempts end now", () => {
    expect(cancellationPlan(subs)).toEqual({
      endAtPeriodEnd: ["active", "late", "unpaid", "paused", "trial"],
      endNow: ["first"],
    });
    expect(cancellationPlan([sub("ending", "active", STARTER, true), sub("gone", "canceled")])).toEqual({
      endAtPeriodEnd: [],
      endNow: [],
    });
  });

  it("account deletion ends every subscription Stripe still has open", () => {
    expect(subscriptionsToEnd(subs)).toEqual([
      "active",
      "ending",
      "late",
      "unpaid",
      "paused",
      "trial",
      "first",
    ]);
  });
});
