import { describe, expect, it } from "vitest";
import { buildEvent } from "../stripe-local/events.ts";
import { renewalOf } from "./renewal.ts";
import type { IngestedEvent } from "./stripeWebhook.ts";

const OLD_END = 1_764_000_000;
const NEW_END = OLD_END + 30 * 86_400;

function item(overrides: Record<string, unknown> = {}) {
  return {
    id: "si_1",
    object: "subscription_item",
    price: { id: "price_mindroom_starter" },
    quantity: 1,
    current_period_start: NEW_END - 30 * 86_400,
    current_period_end: NEW_END,
    ...overrides,
  };
}

function subscription(overrides: Record<string, unknown> = {}) {
  return {
    id: "sub_1",
    object: "subscription",
    customer: "cus_1",
    status: "active",
    items: { object: "list", data: [item()] },
    ...overrides,
  };
}

function updated(previousAttributes: Record<string, unknown> | undefined, object = subscription()) {
  return buildEvent({
    type: "customer.subscription.updated",
    object,
    ...(previousAttributes ? { previousAttributes } : {}),
  }) as IngestedEvent;
}

const periodOnly = {
  items: {
    object: "list",
    data: [item({ current_period_start: OLD_END - 30 * 86_400, current_period_end: OLD_END })],
  },
  latest_invoice: "in_old",
};

describe("renewalOf", () => {
  it("a subscription update whose previous attributes are the items' period is a renewal, with the new period end", () => {
    expect(renewalOf(updated(periodOnly))).toEqual({
      kind: "subscription",
      subscriptionId: "sub_1",
      periodEnd: new Date(NEW_END * 1000),
    });
  });

  it("a moved billing cycle anchor beside the period is still a renewal", () => {
    expect(renewalOf(updated({ ...periodOnly, billing_cycle_anchor: OLD_END - 30 * 86_400 }))).toMatchObject({
      kind: "subscription",
    });
  });

  it("reads the period from the subscription itself on API versions before it moved to the items", () => {
    const object = subscription({
      current_period_end: NEW_END,
      items: { object: "list", data: [{ id: "si_1", price: { id: "price_mindroom_starter" } }] },
    });
    expect(
      renewalOf(updated({ current_period_start: OLD_END - 1, current_period_end: OLD_END }, object)),
    ).toEqual({ kind: "subscription", subscriptionId: "sub_1", periodEnd: new Date(NEW_END * 1000) });
  });

  it.each([
    ["a status change", { ...periodOnly, status: "past_due" }, subscription()],
    [
      "a cancellation scheduled",
      { cancel_at_period_end: false },
      subscription({ cancel_at_period_end: true }),
    ],
    [
      "a price change in the items",
      { items: { object: "list", data: [item({ price: { id: "price_mindroom_pro" } })] } },
      subscription(),
    ],
    [
      "a quantity change in the items",
      { items: { object: "list", data: [item({ quantity: 2 })] } },
      subscription(),
    ],
    ["an item added", { items: { object: "list", data: [] } }, subscription()],
    ["a renewal into past_due", periodOnly, subscription({ status: "past_due" })],
    ["no previous attributes", undefined, subscription()],
    ["empty previous attributes", {}, subscription()],
  ])("%s is not a renewal", (_, previous, object) => {
    expect(renewalOf(updated(previous, object))).toBeUndefined();
  });

  it.each(["invoice.created", "invoice.finalized", "invoice.paid", "invoice.payment_succeeded"])(
    "%s of the billing cycle is a renewal",
    (type) => {
      const event = buildEvent({
        type,
        object: { id: "in_1", object: "invoice", customer: "cus_1", billing_reason: "subscription_cycle" },
      }) as IngestedEvent;
      expect(renewalOf(event)).toEqual({ kind: "invoice" });
    },
  );

  it.each([
    ["invoice.payment_failed", "subscription_cycle"],
    ["invoice.payment_action_required", "subscription_cycle"],
    ["invoice.paid", "subscription_create"],
    ["invoice.paid", "subscription_update"],
    ["invoice.paid", undefined],
    ["customer.subscription.created", undefined],
    ["customer.subscription.deleted", undefined],
  ])("%s (%s) is not a renewal", (type, billingReason) => {
    const event = buildEvent({
      type,
      object: {
        id: "in_1",
        object: "invoice",
        customer: "cus_1",
        status: "active",
        ...(billingReason ? { billing_reason: billingReason } : {}),
      },
      previousAttributes: { latest_invoice: "in_0" },
    }) as IngestedEvent;
    expect(renewalOf(event)).toBeUndefined();
  });
});
