/**
 * Listing a fleet's subscriptions from the local Stripe API: every page of 100 by `starting_after`,
 * and Stripe's 429s (its rate limiter, switched on in the local API) waited out page by page.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalStripe, stripeLocal } from "../../testing/stripeLocal.ts";
import { fetchSubscriptions, listSubscriptions } from "./stripeSubscriptions.ts";

const SUBSCRIPTIONS = 230;
let local: LocalStripe;
const created: string[] = [];
let twoSubscriptions: string;

beforeAll(async () => {
  local = await stripeLocal({ fresh: true });
  for (let i = 0; i < SUBSCRIPTIONS; i++) {
    const customer = await local.stripe.customers.create({ email: `fleet-${i}@example.com` });
    const subscription = await local.stripe.subscriptions.create({
      customer: customer.id,
      items: [{ price: "price_mindroom_starter" }],
    });
    created.push(subscription.id);
    if (i === 0) {
      twoSubscriptions = customer.id;
      const second = await local.stripe.subscriptions.create({
        customer: customer.id,
        items: [{ price: "price_mindroom_starter" }],
      });
      created.push(second.id);
    }
  }
}, 300_000);

afterAll(async () => {
  await local?.stop();
});

/** Short waits: the limiter refills within a second. */
const policy = { attempts: 60, baseMs: 100, maxMs: 1000 };

describe("listSubscriptions", () => {
  it("lists every subscription once, in pages of 100", async () => {
    const requests: URLSearchParams[] = [];
    const spy = {
      subscriptions: {
        list: (params: Record<string, unknown>) => {
          requests.push(new URLSearchParams(params as Record<string, string>));
          return local.stripe.subscriptions.list(params);
        },
      },
    } as unknown as Parameters<typeof listSubscriptions>[0];
    const ids: string[] = [];
    for await (const sub of listSubscriptions(spy)) ids.push(sub.id);
    expect(ids.length).toBe(created.length);
    expect(new Set(ids)).toEqual(new Set(created));
    expect(requests.map((r) => [r.get("limit"), r.get("status"), r.has("starting_after")])).toEqual([
      ["100", "all", false],
      ["100", "all", true],
      ["100", "all", true],
    ]);
  });

  it("waits out Stripe's 429s page by page and still lists everything", async () => {
    const before = local.server.rateLimited();
    // One request every two seconds: each of the three pages meets the limiter, however slow the machine.
    local.server.setRateLimit({ perSecond: 0.5 });
    try {
      const waits: number[] = [];
      const ids: string[] = [];
      for await (const sub of listSubscriptions(
        local.stripe,
        {},
        { policy, onRateLimited: (ms) => waits.push(ms) },
      ))
        ids.push(sub.id);
      expect(new Set(ids)).toEqual(new Set(created));
      expect(waits.length).toBeGreaterThan(0);
      expect(waits.every((ms) => ms >= 0 && ms <= policy.maxMs)).toBe(true);
      // Every 429 the server answered the listing was seen and tried again (the spending ones are extra).
      expect(local.server.rateLimited() - before).toBeGreaterThanOrEqual(waits.length);
    } finally {
      local.server.setRateLimit(null);
    }
  });

  it("a customer's subscriptions are read through the same pages and waits", async () => {
    local.server.setRateLimit({ perSecond: 0.5 });
    try {
      // Spend the one request the bucket holds, so the customer's list meets the limiter.
      await local.stripe.subscriptions.list({ limit: 1 });
      let waited = 0;
      const subs = await fetchSubscriptions(local.stripe, twoSubscriptions, {
        policy,
        onRateLimited: () => waited++,
      });
      expect(subs.map((s) => s.stripeCustomerId)).toEqual([twoSubscriptions, twoSubscriptions]);
      expect(waited).toBeGreaterThan(0);
    } finally {
      local.server.setRateLimit(null);
    }
  });
});
