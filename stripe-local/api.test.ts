/**
 * The local Stripe API through the real stripe-node client: the shapes the
 * project's code reads, Stripe's errors, pagination, idempotency and expand.
 */
import { randomUUID } from "node:crypto";
import Stripe from "stripe";
import { beforeAll, describe, expect, it } from "vitest";
import { stripeClient } from "../billing/stripeClient.ts";
import { type LocalStripe, stripeLocal } from "../testing/stripeLocal.ts";
import { LOCAL_CATALOG } from "./catalog.ts";

let local: LocalStripe;
let stripe: Stripe;

beforeAll(async () => {
  local = await stripeLocal();
  stripe = local.stripe;
});

const email = () => `api-${randomUUID().slice(0, 8)}@example.com`;

async function rejection(promise: Promise<unknown>): Promise<Stripe.errors.StripeError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof Stripe.errors.StripeError) return error;
    throw error;
  }
  throw new Error("expected the request to fail");
}

describe("authentication", () => {
  it("refuses a wrong key with 401 in Stripe's shape", async () => {
    const wrong = stripeClient({ secretKey: "sk_test_not_it", apiBase: local.url, maxNetworkRetries: 0 });
    const error = await rejection(wrong.customers.list());
    expect(error).toBeInstanceOf(Stripe.errors.StripeAuthenticationError);
    expect(error.statusCode).toBe(401);
    expect(error.message).toMatch(/^Invalid API Key provided: sk_test_/);
    expect(error.message).not.toContain("not_it");
  });

  it("refuses a request without a key", async () => {
    const response = await fetch(`${local.url}/v1/customers`);
    expect(response.status).toBe(401);
    const body = (await response.json()) as { error: { type: string; message: string } };
    expect(body.error.type).toBe("invalid_request_error");
    expect(body.error.message).toMatch(/You did not provide an API key/);
  });
});

describe("customers", () => {
  it("creates, retrieves, updates, lists by email and deletes", async () => {
    const address = email();
    const created = await stripe.customers.create({
      email: address,
      name: "Ann",
      metadata: { user_id: "u1" },
    });
    expect(created.id).toMatch(/^cus_[A-Za-z0-9]{14}$/);
    expect(created).toMatchObject({ object: "customer", email: address, name: "Ann", livemode: false });
    expect(created.metadata).toEqual({ user_id: "u1" });
    expect(Math.abs(created.created - Date.now() / 1000)).toBeLessThan(60);

    const updated = await stripe.customers.update(created.id, {
      name: "Ann Lee",
      metadata: { user_id: "", plan: "x" },
    });
    expect(updated.name).toBe("Ann Lee");
    expect(updated.metadata).toEqual({ plan: "x" });

    const listed = await stripe.customers.list({ email: address });
    expect(listed.data.map((c) => c.id)).toEqual([created.id]);
    expect(listed.object).toBe("list");
    expect(listed.url).toBe("/v1/customers");

    const deleted = await stripe.customers.del(created.id);
    expect(deleted).toMatchObject({ id: created.id, object: "customer", deleted: true });
    expect(await stripe.customers.retrieve(created.id)).toMatchObject({ id: created.id, deleted: true });
    const error = await rejection(stripe.customers.update(created.id, { name: "x" }));
    expect(error.statusCode).toBe(404);
    expect(error.code).toBe("resource_missing");
  });

  it("answers 404 resource_missing for an unknown id", async () => {
    const error = await rejection(stripe.customers.retrieve("cus_missing"));
    expect(error).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect(error).toMatchObject({ statusCode: 404, code: "resource_missing", param: "id" });
    expect(error.message).toBe("No such customer: 'cus_missing'");
  });
});

describe("catalog", () => {
  it("serves the contract's prices and products", async () => {
    const prices = await stripe.prices.list({ limit: 100 });
    for (const entry of LOCAL_CATALOG) {
      const price = prices.data.find((p) => p.id === entry.priceId);
      expect(price).toMatchObject({
        unit_amount: entry.unitAmount,
        currency: "usd",
        product: entry.productId,
        type: "recurring",
        metadata: { tier: entry.tier },
      });
      expect(price?.recurring).toMatchObject({ interval: "month", interval_count: 1 });
      const product = await stripe.products.retrieve(entry.productId);
      expect(product.metadata.tier).toBe(entry.tier);
      expect(product.default_price).toBe(entry.priceId);
    }
    const expanded = await stripe.prices.retrieve("price_mindroom_starter", { expand: ["product"] });
    expect((expanded.product as Stripe.Product | undefined)?.name).toBe("MindRoom Starter");
  });
});

describe("subscriptions", () => {
  async function customer(): Promise<Stripe.Customer> {
    return stripe.customers.create({ email: email() });
  }

  it("creates an active subscription with periods on its items and a paid invoice", async () => {
    const c = await customer();
    const sub = await stripe.subscriptions.create({
      customer: c.id,
      items: [{ price: "price_mindroom_starter" }],
      metadata: { tenant: "t1" },
      expand: ["latest_invoice", "items.data.price.product"],
    });
    expect(sub.id).toMatch(/^sub_/);
    expect(sub).toMatchObject({
      object: "subscription",
      status: "active",
      customer: c.id,
      cancel_at_period_end: false,
    });
    expect(sub.metadata).toEqual({ tenant: "t1" });
    const item = sub.items.data[0];
    expect(item?.price.id).toBe("price_mindroom_starter");
    expect((item?.price.product as Stripe.Product | undefined)?.metadata.tier).toBe("starter");
    expect(item?.current_period_end).toBeGreaterThan(item?.current_period_start ?? Number.POSITIVE_INFINITY);
    expect("current_period_end" in sub).toBe(false);
    expect(item?.plan).toMatchObject({
      id: "price_mindroom_starter",
      object: "plan",
      amount: 4900,
      interval: "month",
    });
    const invoice = sub.latest_invoice as Stripe.Invoice;
    expect(invoice).toMatchObject({ object: "invoice", status: "paid", amount_due: 4900, amount_paid: 4900 });
    expect(invoice.parent?.subscription_details?.subscription).toBe(sub.id);
    expect(invoice.lines.data[0]?.pricing?.price_details?.price).toBe("price_mindroom_starter");
  });

  it("starts a trial when asked", async () => {
    const c = await customer();
    const sub = await stripe.subscriptions.create({
      customer: c.id,
      items: [{ price: "price_mindroom_professional" }],
      trial_period_days: 14,
    });
    expect(sub.status).toBe("trialing");
    expect((sub.trial_end ?? 0) - (sub.trial_start ?? 0)).toBe(14 * 86_400);
    expect(sub.items.data[0]?.current_period_end).toBe(sub.trial_end);
  });

  it("changes the price of an item, with an invoice for always_invoice", async () => {
    const c = await customer();
    const sub = await stripe.subscriptions.create({
      customer: c.id,
      items: [{ price: "price_mindroom_starter" }],
    });
    const item = sub.items.data[0];
    if (!item) throw new Error("no item");
    const upgraded = await stripe.subscriptions.update(sub.id, {
      items: [{ id: item.id, price: "price_mindroom_professional" }],
      proration_behavior: "always_invoice",
      expand: ["latest_invoice"],
    });
    expect(upgraded.items.data).toHaveLength(1);
    expect(upgraded.items.data[0]).toMatchObject({
      id: item.id,
      price: { id: "price_mindroom_professional" },
    });
    const invoice = upgraded.latest_invoice as Stripe.Invoice;
    expect(invoice.billing_reason).toBe("subscription_update");
    expect(invoice.status).toBe("paid");
    expect(invoice.amount_due).toBeGreaterThan(0);
    expect(invoice.amount_due).toBeLessThanOrEqual(19900 - 4900);

    const quiet = await stripe.subscriptions.update(sub.id, {
      items: [{ id: item.id, price: "price_mindroom_starter" }],
      proration_behavior: "none",
    });
    expect(quiet.latest_invoice).toBe(invoice.id);
  });

  it("previews the invoice a plan change would produce, changing nothing", async () => {
    const c = await customer();
    const sub = await stripe.subscriptions.create({
      customer: c.id,
      items: [{ price: "price_mindroom_starter" }],
    });
    const item = sub.items.data[0];
    if (!item) throw new Error("no item");
    const now = await stripe.invoices.createPreview({
      customer: c.id,
      subscription: sub.id,
      subscription_details: {
        items: [{ id: item.id, price: "price_mindroom_professional" }],
        proration_behavior: "always_invoice",
      },
    });
    expect(now.id).toMatch(/^upcoming_in_/);
    expect(now.lines.data.every((l) => l.parent?.subscription_item_details?.proration)).toBe(true);
    expect(now.amount_due).toBeGreaterThan(0);
    expect(now.amount_due).toBeLessThanOrEqual(19900 - 4900);
    const next = await stripe.invoices.createPreview({
      subscription: sub.id,
      subscription_details: {
        items: [{ id: item.id, price: "price_mindroom_professional" }],
        proration_behavior: "none",
      },
    });
    expect(next.amount_due).toBe(19900);
    expect(next.period_start).toBe(item.current_period_end);
    const unchanged = await stripe.subscriptions.retrieve(sub.id);
    expect(unchanged.items.data[0]?.price.id).toBe("price_mindroom_starter");
    expect(unchanged.latest_invoice).toBe(sub.latest_invoice);
  });

  it("cancels at period end, undoes it, and cancels at once with DELETE", async () => {
    const c = await customer();
    const sub = await stripe.subscriptions.create({
      customer: c.id,
      items: [{ price: "price_mindroom_starter" }],
    });
    const ending = await stripe.subscriptions.update(sub.id, { cancel_at_period_end: true });
    expect(ending).toMatchObject({ status: "active", cancel_at_period_end: true });
    expect(ending.cancel_at).toBe(ending.items.data[0]?.current_period_end);
    const kept = await stripe.subscriptions.update(sub.id, { cancel_at_period_end: false });
    expect(kept).toMatchObject({ cancel_at_period_end: false, cancel_at: null, canceled_at: null });
    const canceled = await stripe.subscriptions.cancel(sub.id);
    expect(canceled.status).toBe("canceled");
    expect(canceled.ended_at).not.toBeNull();
    const error = await rejection(
      stripe.subscriptions.update(sub.id, { items: [{ price: "price_mindroom_free" }] }),
    );
    expect(error.message).toBe(
      "A canceled subscription can only update its cancellation_details and metadata.",
    );
    const tagged = await stripe.subscriptions.update(sub.id, { metadata: { note: "gone" } });
    expect(tagged.metadata.note).toBe("gone");
  });

  it("lists by customer, price and status, leaving canceled out unless status=all", async () => {
    const c = await customer();
    const a = await stripe.subscriptions.create({
      customer: c.id,
      items: [{ price: "price_mindroom_starter" }],
    });
    const b = await stripe.subscriptions.create({
      customer: c.id,
      items: [{ price: "price_mindroom_free" }],
    });
    await stripe.subscriptions.cancel(a.id);
    const live = await stripe.subscriptions.list({ customer: c.id });
    expect(live.data.map((s) => s.id)).toEqual([b.id]);
    const all = await stripe.subscriptions.list({ customer: c.id, status: "all" });
    expect(all.data.map((s) => s.id)).toEqual([b.id, a.id]);
    const canceled = await stripe.subscriptions.list({ customer: c.id, status: "canceled" });
    expect(canceled.data.map((s) => s.id)).toEqual([a.id]);
    const byPrice = await stripe.subscriptions.list({ customer: c.id, price: "price_mindroom_free" });
    expect(byPrice.data.map((s) => s.id)).toEqual([b.id]);
  });

  it("lists invoices by subscription", async () => {
    const c = await customer();
    const sub = await stripe.subscriptions.create({
      customer: c.id,
      items: [{ price: "price_mindroom_starter" }],
    });
    const invoices = await stripe.invoices.list({ subscription: sub.id });
    expect(invoices.data).toHaveLength(1);
    expect(invoices.data[0]?.id).toBe(sub.latest_invoice);
    const one = await stripe.invoices.retrieve(sub.latest_invoice as string, { expand: ["customer"] });
    expect((one.customer as Stripe.Customer | undefined)?.id).toBe(c.id);
  });

  it("rejects what Stripe rejects", async () => {
    const c = await customer();
    const missing = await rejection(
      stripe.subscriptions.create({ customer: c.id } as Stripe.SubscriptionCreateParams),
    );
    expect(missing).toMatchObject({ statusCode: 400, code: "parameter_missing", param: "items" });
    const noPrice = await rejection(
      stripe.subscriptions.create({ customer: c.id, items: [{ price: "price_nope" }] }),
    );
    expect(noPrice).toMatchObject({ statusCode: 400, code: "resource_missing", param: "items[0][price]" });
    const noCustomer = await rejection(
      stripe.subscriptions.create({ customer: "cus_nope", items: [{ price: "price_mindroom_starter" }] }),
    );
    expect(noCustomer).toMatchObject({ statusCode: 400, code: "resource_missing", param: "customer" });
    const unknown = await rejection(
      stripe.subscriptions.create({
        customer: c.id,
        items: [{ price: "price_mindroom_starter" }],
        colour: "red",
      } as Stripe.SubscriptionCreateParams),
    );
    expect(unknown).toMatchObject({ code: "parameter_unknown", param: "colour" });
    const badEnum = await rejection(
      stripe.subscriptions.update("sub_x", { proration_behavior: "sometimes" as "none" }),
    );
    expect(badEnum.param).toBe("proration_behavior");
    const route = await rejection(stripe.rawRequest("GET", "/v1/nothing_here"));
    expect(route.statusCode).toBe(404);
    expect(route.message).toMatch(/^Unrecognized request URL \(GET: \/v1\/nothing_here\)/);
  });
});

describe("search", () => {
  it("finds customers by email and metadata, subscriptions by status and metadata", async () => {
    const tag = randomUUID().slice(0, 8);
    const a = await stripe.customers.create({
      email: `s-${tag}@example.com`,
      metadata: { user_id: `u-${tag}` },
    });
    const found = await stripe.customers.search({ query: `metadata['user_id']:'u-${tag}'` });
    expect(found.object).toBe("search_result");
    expect(found.data.map((c) => c.id)).toEqual([a.id]);
    const byEmail = await stripe.customers.search({ query: `email:'s-${tag}@example.com' AND -name:'x'` });
    expect(byEmail.data.map((c) => c.id)).toEqual([a.id]);
    const sub = await stripe.subscriptions.create({
      customer: a.id,
      items: [{ price: "price_mindroom_starter" }],
      metadata: { tenant: tag },
    });
    const subs = await stripe.subscriptions.search({
      query: `status:'active' AND metadata['tenant']:'${tag}'`,
    });
    expect(subs.data.map((s) => s.id)).toEqual([sub.id]);
    const bad = await rejection(stripe.customers.search({ query: "colour:'red'" }));
    expect(bad.param).toBe("query");
  });
});

describe("lists", () => {
  it("pages newest first with limit, starting_after, ending_before and has_more", async () => {
    const tag = randomUUID().slice(0, 8);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++)
      ids.push((await stripe.customers.create({ email: `page-${tag}@example.com` })).id);
    const newest = [...ids].reverse();
    const first = await stripe.customers.list({ email: `page-${tag}@example.com`, limit: 2 });
    expect(first.data.map((c) => c.id)).toEqual(newest.slice(0, 2));
    expect(first.has_more).toBe(true);
    const second = await stripe.customers.list({
      email: `page-${tag}@example.com`,
      limit: 2,
      starting_after: newest[1],
    });
    expect(second.data.map((c) => c.id)).toEqual(newest.slice(2, 4));
    const back = await stripe.customers.list({
      email: `page-${tag}@example.com`,
      limit: 2,
      ending_before: newest[2],
    });
    expect(back.data.map((c) => c.id)).toEqual(newest.slice(0, 2));
    const all: string[] = [];
    for await (const c of stripe.customers.list({ email: `page-${tag}@example.com`, limit: 2 }))
      all.push(c.id);
    expect(all).toEqual(newest);
    const tooMany = await rejection(stripe.customers.list({ limit: 101 }));
    expect(tooMany.param).toBe("limit");
  });

  it("expands inside lists with data.*", async () => {
    const c = await stripe.customers.create({ email: email() });
    await stripe.subscriptions.create({ customer: c.id, items: [{ price: "price_mindroom_starter" }] });
    const list = await stripe.subscriptions.list({ customer: c.id, expand: ["data.customer"] });
    expect((list.data[0]?.customer as Stripe.Customer | undefined)?.email).toBe(c.email);
    const bad = await rejection(stripe.subscriptions.list({ customer: c.id, expand: ["data.colour"] }));
    expect(bad.message).toBe("This property cannot be expanded (colour).");
  });
});

describe("idempotency", () => {
  it("replays a request with the same key and refuses the key for other parameters", async () => {
    const key = randomUUID();
    const address = email();
    const first = await stripe.customers.create({ email: address }, { idempotencyKey: key });
    const again = await stripe.customers.create({ email: address }, { idempotencyKey: key });
    expect(again.id).toBe(first.id);
    expect(again.lastResponse.headers["idempotent-replayed"]).toBe("true");
    expect((await stripe.customers.list({ email: address })).data).toHaveLength(1);
    const error = await rejection(stripe.customers.create({ email: email() }, { idempotencyKey: key }));
    expect(error).toBeInstanceOf(Stripe.errors.StripeIdempotencyError);
    expect(error.statusCode).toBe(400);
  });
});
