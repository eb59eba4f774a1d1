/**
 * Events and their signed delivery: verified by the receiver with stripe-node's
 * constructEvent, retried after a 500, recorded for delivery_success listing.
 */
import { randomUUID } from "node:crypto";
import Stripe from "stripe";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { STRIPE_API_VERSION } from "../billing/stripeClient.ts";
import {
  type LocalStripe,
  stripeLocal,
  type WebhookReceiver,
  webhookReceiver,
} from "../testing/stripeLocal.ts";
import { buildEvent, signedDelivery } from "./events.ts";

let local: LocalStripe;
let receiver: WebhookReceiver;

beforeAll(async () => {
  local = await stripeLocal({ fresh: true });
  receiver = await webhookReceiver(local.webhookSecret);
  local.addWebhook(receiver.url);
});

afterAll(async () => {
  await local.stop();
  await receiver.close();
});

const email = () => `hook-${randomUUID().slice(0, 8)}@example.com`;

describe("event objects", () => {
  it("have Stripe's envelope and record the request that caused them", async () => {
    const key = randomUUID();
    const customer = await local.stripe.customers.create({ email: email() }, { idempotencyKey: key });
    const events = await local.stripe.events.list({ type: "customer.created", limit: 1 });
    const event = events.data[0];
    expect(event).toMatchObject({
      object: "event",
      type: "customer.created",
      livemode: false,
      api_version: STRIPE_API_VERSION,
      request: { idempotency_key: key },
    });
    expect(event?.id).toMatch(/^evt_/);
    expect(event?.request?.id).toMatch(/^req_/);
    expect((event?.data.object as Stripe.Customer | undefined)?.id).toBe(customer.id);
    const again = await local.stripe.events.retrieve(event?.id ?? "");
    expect(again.id).toBe(event?.id);
  });

  it("carry previous_attributes on updates", async () => {
    const customer = await local.stripe.customers.create({ email: email() });
    const sub = await local.stripe.subscriptions.create({
      customer: customer.id,
      items: [{ price: "price_mindroom_starter" }],
    });
    await local.stripe.subscriptions.update(sub.id, {
      cancel_at_period_end: true,
      metadata: { reason: "moving" },
    });
    const [updated] = (await local.stripe.events.list({ type: "customer.subscription.updated", limit: 1 }))
      .data;
    expect((updated?.data.object as Stripe.Subscription | undefined)?.id).toBe(sub.id);
    expect(updated?.data.previous_attributes).toMatchObject({
      cancel_at_period_end: false,
      cancel_at: null,
      metadata: { reason: null },
    });
  });

  it("filter by type, wildcard, types[] and created", async () => {
    const customer = await local.stripe.customers.create({ email: email() });
    await local.stripe.subscriptions.create({
      customer: customer.id,
      items: [{ price: "price_mindroom_starter" }],
    });
    const wildcard = await local.stripe.events.list({ type: "invoice.*", limit: 4 });
    expect(wildcard.data.map((e) => e.type)).toEqual([
      "invoice.payment_succeeded",
      "invoice.paid",
      "invoice.finalized",
      "invoice.created",
    ]);
    const types = await local.stripe.events.list({ types: ["customer.created", "invoice.paid"], limit: 2 });
    expect(types.data.map((e) => e.type).sort()).toEqual(["customer.created", "invoice.paid"]);
    const future = await local.stripe.events.list({ created: { gt: Math.floor(Date.now() / 1000) + 3600 } });
    expect(future.data).toEqual([]);
  });
});

describe("delivery", () => {
  it("signs every delivery so constructEvent accepts it, in the order the events happened", async () => {
    await local.idle();
    const before = receiver.events().length;
    const customer = await local.stripe.customers.create({ email: email() });
    await local.stripe.subscriptions.create({
      customer: customer.id,
      items: [{ price: "price_mindroom_starter" }],
    });
    await local.idle();
    const received = receiver.events().slice(before);
    expect(received.map((e) => e.type)).toEqual([
      "customer.created",
      "customer.subscription.created",
      "invoice.created",
      "invoice.finalized",
      "invoice.paid",
      "invoice.payment_succeeded",
    ]);
    expect(receiver.deliveries.every((d) => d.signature.match(/^t=\d+,v1=[0-9a-f]{64}$/))).toBe(true);
    const listed = await local.stripe.events.retrieve(received[0]?.id ?? "");
    expect(listed.pending_webhooks).toBe(0);
  });

  it("retries a delivery the receiver answered with 500, and records the outcome", async () => {
    await local.idle();
    receiver.failNext(2, 500);
    const customer = await local.stripe.customers.create({ email: email() });
    const [created] = (await local.stripe.events.list({ type: "customer.created", limit: 1 })).data;
    await local.idle();
    const attempts = local.server.attempts().filter((a) => a.eventId === created?.id);
    expect(attempts.map((a) => a.status)).toEqual([500, 500, 200]);
    const delivered = receiver.events().filter((e) => e.id === created?.id);
    expect(delivered).toHaveLength(1);
    expect((delivered[0]?.data.object as Stripe.Customer | undefined)?.id).toBe(customer.id);
    const stillPending = await local.stripe.events.list({ delivery_success: false, limit: 100 });
    expect(stillPending.data.map((e) => e.id)).not.toContain(created?.id);
  });

  it("lists events some endpoint never accepted with delivery_success=false", async () => {
    const dead = local.addWebhook("http://127.0.0.1:9/unreachable", "whsec_dead");
    try {
      const customer = await local.stripe.customers.create({ email: email() });
      await local.idle();
      const failed = await local.stripe.events.list({ delivery_success: false, type: "customer.created" });
      const event = failed.data.find(
        (e) => (e.data.object as Stripe.Customer | undefined)?.id === customer.id,
      );
      expect(event?.pending_webhooks).toBe(1);
      const ok = await local.stripe.events.list({
        delivery_success: true,
        type: "customer.created",
        limit: 100,
      });
      expect(ok.data.map((e) => e.id)).not.toContain(event?.id);
    } finally {
      await local.stripe.webhookEndpoints.del(dead.id);
    }
  });

  it("rejects a delivery signed with another secret at the receiver", async () => {
    const event = buildEvent({ type: "customer.updated", object: { id: "cus_x", object: "customer" } });
    const { body, headers } = signedDelivery(event, "whsec_someone_else");
    const response = await fetch(receiver.url, { method: "POST", headers, body });
    expect(response.status).toBe(400);
  });
});

describe("webhook endpoints", () => {
  it("creates with a generated secret that is not listed, and deletes", async () => {
    const created = await local.stripe.webhookEndpoints.create({
      url: "http://127.0.0.1:9/other",
      enabled_events: ["customer.subscription.deleted"],
    });
    expect(created.id).toMatch(/^we_/);
    expect(created.secret).toMatch(/^whsec_/);
    const listed = await local.stripe.webhookEndpoints.list();
    const found = listed.data.find((e) => e.id === created.id);
    expect(found?.url).toBe("http://127.0.0.1:9/other");
    expect(found?.secret).toBeUndefined();
    const deleted = await local.stripe.webhookEndpoints.del(created.id);
    expect(deleted.deleted).toBe(true);
  });
});

describe("signedDelivery", () => {
  it("produces what stripe-node's constructEvent verifies, at a chosen timestamp", () => {
    const event = buildEvent({
      type: "customer.subscription.updated",
      object: { id: "sub_1", object: "subscription", status: "active" },
      previousAttributes: { status: "past_due" },
    });
    const timestamp = Math.floor(Date.now() / 1000) - 60;
    const { body, headers } = signedDelivery(event, "whsec_test", timestamp);
    expect(headers["stripe-signature"]).toMatch(new RegExp(`^t=${timestamp},v1=`));
    const verified = Stripe.webhooks.constructEvent(body, headers["stripe-signature"] ?? "", "whsec_test");
    expect(verified.data.previous_attributes).toEqual({ status: "past_due" });
    const old = signedDelivery(event, "whsec_test", timestamp - 600);
    expect(() =>
      Stripe.webhooks.constructEvent(old.body, old.headers["stripe-signature"] ?? "", "whsec_test"),
    ).toThrow(/Timestamp outside the tolerance zone/);
  });
});
