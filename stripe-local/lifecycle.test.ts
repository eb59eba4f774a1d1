/**
 * The lifecycle controls: each moves the subscription as Stripe's clock or card
 * network would and emits the events Stripe emits for it.
 */
import { randomUUID } from "node:crypto";
import type Stripe from "stripe";
import { beforeAll, describe, expect, it } from "vitest";
import { type LocalStripe, stripeLocal } from "../testing/stripeLocal.ts";
import { LocalControlError } from "./controls.ts";

let local: LocalStripe;

beforeAll(async () => {
  local = await stripeLocal();
});

async function newestEventId(): Promise<string | undefined> {
  return (await local.stripe.events.list({ limit: 1 })).data[0]?.id;
}

/** Events newer than `cursor`, oldest first. */
async function eventsAfter(cursor: string | undefined): Promise<Stripe.Event[]> {
  const out: Stripe.Event[] = [];
  for await (const e of local.stripe.events.list({ limit: 100 })) {
    if (e.id === cursor) break;
    out.push(e);
  }
  return out.reverse();
}

async function subscribed(
  options: Partial<Stripe.SubscriptionCreateParams> = {},
): Promise<Stripe.Subscription> {
  const customer = await local.stripe.customers.create({
    email: `life-${randomUUID().slice(0, 8)}@example.com`,
  });
  return local.stripe.subscriptions.create({
    customer: customer.id,
    items: [{ price: "price_mindroom_starter" }],
    ...options,
  });
}

function statusChanges(events: Stripe.Event[]): string[] {
  return events
    .filter(
      (e) =>
        e.type === "customer.subscription.updated" &&
        e.data.previous_attributes &&
        "status" in e.data.previous_attributes,
    )
    .map(
      (e) =>
        `${String((e.data.previous_attributes as { status?: string } | undefined)?.status)}→${(e.data.object as Stripe.Subscription | undefined)?.status}`,
    );
}

describe("payment failure and dunning", () => {
  it("payment_failed: a renewal invoice fails, the subscription goes past_due", async () => {
    const sub = await subscribed();
    const cursor = await newestEventId();
    const after = await local.controls.paymentFailed(sub.id);
    expect(after.status).toBe("past_due");
    const events = await eventsAfter(cursor);
    expect(events.map((e) => e.type)).toEqual([
      "customer.subscription.updated",
      "invoice.created",
      "invoice.finalized",
      "invoice.payment_failed",
      "customer.subscription.updated",
    ]);
    expect(statusChanges(events)).toEqual(["active→past_due"]);
    const failed = events.find((e) => e.type === "invoice.payment_failed")?.data.object as Stripe.Invoice;
    expect(failed).toMatchObject({ status: "open", attempt_count: 1, billing_reason: "subscription_cycle" });
    expect(failed.next_payment_attempt).not.toBeNull();
    expect(failed.parent?.subscription_details?.subscription).toBe(sub.id);
    expect(after.items.data[0]?.current_period_start).toBe(sub.items.data[0]?.current_period_end);
  });

  it("retries_exhausted: a final failure, then unpaid (or canceled)", async () => {
    const sub = await subscribed();
    await local.controls.paymentFailed(sub.id);
    const cursor = await newestEventId();
    const unpaid = await local.controls.retriesExhausted(sub.id);
    expect(unpaid.status).toBe("unpaid");
    const events = await eventsAfter(cursor);
    expect(events.map((e) => e.type)).toEqual(["invoice.payment_failed", "customer.subscription.updated"]);
    expect((events[0]?.data.object as Stripe.Invoice | undefined)?.next_payment_attempt).toBeNull();
    expect(statusChanges(events)).toEqual(["past_due→unpaid"]);

    const other = await subscribed();
    await local.controls.paymentFailed(other.id);
    const cursor2 = await newestEventId();
    const canceled = await local.controls.retriesExhausted(other.id, "canceled");
    expect(canceled.status).toBe("canceled");
    expect(canceled.cancellation_details?.reason).toBe("payment_failed");
    expect((await eventsAfter(cursor2)).map((e) => e.type)).toEqual([
      "invoice.payment_failed",
      "customer.subscription.deleted",
    ]);
  });

  it("payment_succeeded: the open invoice is paid and the subscription is active again", async () => {
    const sub = await subscribed();
    await local.controls.paymentFailed(sub.id);
    await local.controls.retriesExhausted(sub.id);
    const cursor = await newestEventId();
    const active = await local.controls.paymentSucceeded(sub.id);
    expect(active.status).toBe("active");
    const events = await eventsAfter(cursor);
    expect(events.map((e) => e.type)).toEqual([
      "invoice.paid",
      "invoice.payment_succeeded",
      "customer.subscription.updated",
    ]);
    expect((events[0]?.data.object as Stripe.Invoice | undefined)?.status).toBe("paid");
    expect(statusChanges(events)).toEqual(["unpaid→active"]);
  });

  it("refuses retries_exhausted without a failed payment, saying what to do", async () => {
    const sub = await subscribed();
    await expect(local.controls.retriesExhausted(sub.id)).rejects.toThrow(/send payment_failed first/);
    await expect(local.controls.retriesExhausted("sub_missing")).rejects.toBeInstanceOf(LocalControlError);
  });
});

describe("period end", () => {
  it("with cancel_at_period_end: canceled and customer.subscription.deleted", async () => {
    const sub = await subscribed();
    await local.stripe.subscriptions.update(sub.id, { cancel_at_period_end: true });
    const cursor = await newestEventId();
    const ended = await local.controls.periodEnd(sub.id);
    expect(ended.status).toBe("canceled");
    expect(ended.ended_at).not.toBeNull();
    const events = await eventsAfter(cursor);
    expect(events.map((e) => e.type)).toEqual(["customer.subscription.deleted"]);
    expect((events[0]?.data.object as Stripe.Subscription | undefined)?.status).toBe("canceled");
  });

  it("otherwise: a renewal invoice, paid, and a new period", async () => {
    const sub = await subscribed();
    const cursor = await newestEventId();
    const renewed = await local.controls.periodEnd(sub.id);
    expect(renewed.status).toBe("active");
    const events = await eventsAfter(cursor);
    expect(events.map((e) => e.type)).toEqual([
      "customer.subscription.updated",
      "invoice.created",
      "invoice.finalized",
      "invoice.paid",
      "invoice.payment_succeeded",
    ]);
    const previous = events[0]?.data.previous_attributes as {
      items?: Stripe.ApiList<Stripe.SubscriptionItem>;
    };
    expect(previous.items?.data[0]?.current_period_end).toBe(sub.items.data[0]?.current_period_end);
    expect(renewed.items.data[0]?.current_period_start).toBe(sub.items.data[0]?.current_period_end);
    expect(renewed.latest_invoice).not.toBe(sub.latest_invoice);
  });
});

describe("trials", () => {
  it("trial end without a payment method pauses (trial_settings pause): paused + customer.subscription.paused", async () => {
    const sub = await subscribed({
      trial_period_days: 7,
      trial_settings: { end_behavior: { missing_payment_method: "pause" } },
    });
    expect(sub.status).toBe("trialing");
    const cursor = await newestEventId();
    const paused = await local.controls.trialEnd(sub.id, { paymentMethod: "missing" });
    expect(paused.status).toBe("paused");
    const types = (await eventsAfter(cursor)).map((e) => e.type);
    expect(types.slice(-2)).toEqual(["customer.subscription.updated", "customer.subscription.paused"]);

    const cursor2 = await newestEventId();
    const resumed = await local.stripe.subscriptions.resume(sub.id);
    expect(resumed.status).toBe("active");
    const after = (await eventsAfter(cursor2)).map((e) => e.type);
    expect(after).toContain("invoice.paid");
    expect(after.slice(-2)).toEqual(["customer.subscription.updated", "customer.subscription.resumed"]);
  });

  it("trial end with a payment method: the first invoice is paid and the subscription active", async () => {
    const sub = await subscribed({ trial_period_days: 7 });
    const cursor = await newestEventId();
    const active = await local.controls.trialEnd(sub.id, { paymentMethod: "present" });
    expect(active.status).toBe("active");
    const events = await eventsAfter(cursor);
    expect(events.map((e) => e.type)).toContain("invoice.paid");
    expect(statusChanges(events)).toEqual(["trialing→active"]);
    const invoice = events.find((e) => e.type === "invoice.paid")?.data.object as Stripe.Invoice;
    expect(invoice.amount_paid).toBe(4900);
  });
});

describe("reset and state", () => {
  it("dumps the state and resets to the catalog", async () => {
    const local2 = await stripeLocal({ fresh: true });
    try {
      await local2.stripe.customers.create({ email: "reset@example.com" });
      const state = await local2.controls.state();
      expect(Object.keys(state.customers)).toHaveLength(1);
      expect(Object.keys(state.prices)).toContain("price_mindroom_enterprise");
      await local2.controls.reset();
      expect((await local2.stripe.customers.list()).data).toEqual([]);
      expect((await local2.stripe.prices.list()).data).toHaveLength(4);
      expect((await local2.stripe.events.list()).data).toEqual([]);
    } finally {
      await local2.stop();
    }
  });
});
