/**
 * Customer journeys against a running local platform: this drives the local
 * Stripe API as the customer (hosted Checkout form, plan changes) and as
 * Stripe's clock and card network would (the lifecycle controls); the local
 * API then sends the signed events to the platform's webhook. Each step
 * reports the events it caused and whether every endpoint accepted them, and
 * (with `platform`) waits until the platform has acted on them and reports
 * what the customer now has (journeyWatch.ts), so the next step starts from
 * the state a real customer would be in.
 */
import type Stripe from "stripe";
import { stripeClient } from "../billing/stripeClient.ts";
import type { TierId } from "../components/tiers.ts";
import type { Queryable } from "../database/connection.ts";
import { type LocalControls, localControls } from "./controls.ts";
import {
  type PlatformExpectation,
  PlatformTimeoutError,
  type TenantView,
  waitForPlatform,
} from "./journeyWatch.ts";

export const JOURNEYS = ["checkout", "upgrade", "payment-failure", "resubscribe", "cancel", "all"] as const;
export type JourneyName = (typeof JOURNEYS)[number];

export interface JourneyStep {
  step: string;
  ok: boolean;
  detail: string;
  subscription?: string;
  status?: string;
  events: string[];
  /** Events some endpoint has not accepted (after retries), or none when all were delivered. */
  undelivered: string[];
  endpoints: number;
  /** What the platform made of the step: the tenant after each wait (two for payment-failure). */
  platform: PlatformReport[];
  /** The platform did not act within the timeout. */
  timedOut?: boolean;
}

export interface PlatformReport {
  /** What it waited after (`checkout`, `payment failed`, `retries exhausted`, …). */
  readonly after: string;
  readonly tenant: TenantView;
  readonly waitedMs: number;
}

/** How to watch the platform act (the platform's database). */
export interface PlatformWatch {
  readonly db: Queryable;
  /** Per wait (ms). */
  readonly timeoutMs: number;
  /** A new state while waiting. */
  readonly onProgress?: (line: string) => void;
}

export interface JourneyOptions {
  stripeUrl: string;
  secretKey: string;
  email: string;
  /** Tier for checkout (default starter) and upgrade (default the next one up). */
  tier?: TierId;
  onStep?: (step: JourneyStep) => void;
  /** Wait after each step until the platform has acted; without it, only Stripe is driven. */
  platform?: PlatformWatch;
}

export class JourneyError extends Error {
  override readonly name = "JourneyError";
}

const UPGRADE: Record<string, TierId> = {
  free: "starter",
  starter: "professional",
  professional: "enterprise",
};
const LIVE = new Set(["active", "trialing", "past_due", "unpaid", "paused", "incomplete"]);

interface Ctx {
  stripe: Stripe;
  controls: LocalControls;
  options: JourneyOptions;
  /** This step's platform reports so far. */
  reports: PlatformReport[];
}

/** Waits (when watching) until every event is delivered and the platform has acted on them. */
async function settle(ctx: Ctx, sub: Stripe.Subscription, after: string, expected: PlatformExpectation) {
  const watch = ctx.options.platform;
  if (!watch) return;
  await ctx.controls.idle();
  const customer = typeof sub.customer === "string" ? sub.customer : sub.customer.id;
  const { tenant, waitedMs } = await waitForPlatform(watch.db, customer, expected, {
    timeoutMs: watch.timeoutMs,
    onProgress: (line) => watch.onProgress?.(`${after}: ${line}`),
  });
  ctx.reports.push({ after, tenant, waitedMs });
}

async function customerByEmail(ctx: Ctx): Promise<Stripe.Customer | undefined> {
  const list = await ctx.stripe.customers.list({ email: ctx.options.email, limit: 1 });
  return list.data[0];
}

async function liveSubscription(ctx: Ctx): Promise<Stripe.Subscription | undefined> {
  const customer = await customerByEmail(ctx);
  if (!customer) return undefined;
  const subs = await ctx.stripe.subscriptions.list({ customer: customer.id, status: "all", limit: 100 });
  return subs.data.find((s) => LIVE.has(s.status));
}

async function requireLive(ctx: Ctx, step: string): Promise<Stripe.Subscription> {
  const sub = await liveSubscription(ctx);
  if (!sub)
    throw new JourneyError(
      `${step}: ${ctx.options.email} has no live subscription; run the checkout journey first`,
    );
  return sub;
}

function priceOf(sub: Stripe.Subscription): string {
  return sub.items.data[0]?.price.id ?? "(none)";
}

function expectStatus(sub: Stripe.Subscription, wanted: string, step: string): void {
  if (sub.status !== wanted)
    throw new JourneyError(`${step}: expected subscription ${sub.id} to be ${wanted}, it is ${sub.status}`);
}

/** The customer pays on the hosted Checkout page, exactly as a browser submits it. */
async function checkout(ctx: Ctx): Promise<{ sub: Stripe.Subscription; detail: string }> {
  const existing = await customerByEmail(ctx);
  const price = `price_mindroom_${ctx.options.tier ?? "starter"}`;
  const session = await ctx.stripe.checkout.sessions.create({
    mode: "subscription",
    line_items: [{ price, quantity: 1 }],
    ...(existing ? { customer: existing.id } : { customer_email: ctx.options.email }),
    success_url: `${ctx.options.stripeUrl}/journey/success?session_id={CHECKOUT_SESSION_ID}`,
    cancel_url: `${ctx.options.stripeUrl}/journey/cancel`,
    metadata: { source: "mindroom-stripe journey" },
  });
  if (!session.url) throw new JourneyError("checkout: the session has no hosted page URL");
  const response = await fetch(session.url, {
    method: "POST",
    redirect: "manual",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      email: ctx.options.email,
      name: "Journey Customer",
      card_number: "4242 4242 4242 4242",
      expiry: "12 / 34",
      cvc: "123",
    }),
  });
  const location = response.headers.get("location") ?? "";
  if (response.status !== 303 || !location.includes(session.id))
    throw new JourneyError(
      `checkout: the hosted page answered ${response.status} (location ${location || "none"})`,
    );
  const done = await ctx.stripe.checkout.sessions.retrieve(session.id, { expand: ["subscription"] });
  const sub = done.subscription as Stripe.Subscription | null;
  if (done.status !== "complete" || !sub)
    throw new JourneyError(`checkout: session ${session.id} is ${done.status}`);
  expectStatus(sub, "active", "checkout");
  await settle(ctx, sub, "checkout", { state: "running", tier: ctx.options.tier ?? "starter" });
  return { sub, detail: `paid ${price} on the hosted page; redirected to success_url` };
}

async function upgrade(ctx: Ctx): Promise<{ sub: Stripe.Subscription; detail: string }> {
  const sub = await requireLive(ctx, "upgrade");
  const item = sub.items.data[0];
  const from = item?.price.metadata.tier ?? "";
  const to = ctx.options.tier && ctx.options.tier !== from ? ctx.options.tier : UPGRADE[from];
  if (!item || !to) throw new JourneyError(`upgrade: no tier above ${from || priceOf(sub)}`);
  const updated = await ctx.stripe.subscriptions.update(sub.id, {
    items: [{ id: item.id, price: `price_mindroom_${to}` }],
    proration_behavior: "always_invoice",
  });
  await settle(ctx, updated, "upgrade", { state: "running", tier: to });
  return { sub: updated, detail: `${from} → ${to} (prorated difference invoiced and paid)` };
}

async function paymentFailure(ctx: Ctx): Promise<{ sub: Stripe.Subscription; detail: string }> {
  const sub = await requireLive(ctx, "payment-failure");
  const failed = await ctx.controls.paymentFailed(sub.id);
  expectStatus(failed, "past_due", "payment-failure");
  await settle(ctx, failed, "payment failed", { state: "running", warning: true });
  const unpaid = await ctx.controls.retriesExhausted(sub.id);
  expectStatus(unpaid, "unpaid", "payment-failure");
  await settle(ctx, unpaid, "retries exhausted", { state: "suspended", deletionScheduled: false });
  return { sub: unpaid, detail: "renewal payment failed (past_due), retries exhausted (unpaid)" };
}

async function resubscribe(ctx: Ctx): Promise<{ sub: Stripe.Subscription; detail: string }> {
  const sub = await liveSubscription(ctx);
  if (!sub) {
    const result = await checkout(ctx);
    return { sub: result.sub, detail: `no live subscription: new checkout; ${result.detail}` };
  }
  if (sub.status === "active" || sub.status === "trialing") {
    await settle(ctx, sub, "resubscribe", { state: "running" });
    return { sub, detail: "already active; nothing to do" };
  }
  const paid = await ctx.controls.paymentSucceeded(sub.id);
  expectStatus(paid, "active", "resubscribe");
  await settle(ctx, paid, "resubscribe", { state: "running", warning: false });
  return { sub: paid, detail: `${sub.status} → active (open invoice paid with an updated card)` };
}

async function cancel(ctx: Ctx): Promise<{ sub: Stripe.Subscription; detail: string }> {
  const sub = await requireLive(ctx, "cancel");
  await ctx.stripe.subscriptions.update(sub.id, { cancel_at_period_end: true });
  const ended = await ctx.controls.periodEnd(sub.id);
  expectStatus(ended, "canceled", "cancel");
  await settle(ctx, ended, "cancel", { state: "suspended", deletionScheduled: true });
  return { sub: ended, detail: "cancel at period end requested; period ended → canceled" };
}

const STEPS: Record<
  Exclude<JourneyName, "all">,
  (ctx: Ctx) => Promise<{ sub: Stripe.Subscription; detail: string }>
> = {
  checkout,
  upgrade,
  "payment-failure": paymentFailure,
  resubscribe,
  cancel,
};

async function newestEventId(stripe: Stripe): Promise<string | undefined> {
  return (await stripe.events.list({ limit: 1 })).data[0]?.id;
}

async function eventsSince(stripe: Stripe, cursor: string | undefined): Promise<Stripe.Event[]> {
  const out: Stripe.Event[] = [];
  for await (const e of stripe.events.list({ limit: 100 })) {
    if (e.id === cursor) break;
    out.push(e);
  }
  return out.reverse();
}

/** Runs the journey's steps in order; stops at the first failure. Returns whether all succeeded. */
export async function runJourney(name: JourneyName, options: JourneyOptions): Promise<boolean> {
  const ctx: Ctx = {
    stripe: stripeClient({ secretKey: options.secretKey, apiBase: options.stripeUrl }),
    controls: localControls(options.stripeUrl, options.secretKey),
    options,
    reports: [],
  };
  const names =
    name === "all" ? (["checkout", "upgrade", "payment-failure", "resubscribe", "cancel"] as const) : [name];
  for (const step of names) {
    const cursor = await newestEventId(ctx.stripe);
    ctx.reports = [];
    let result: JourneyStep;
    try {
      const { sub, detail } = await STEPS[step](ctx);
      await ctx.controls.idle();
      const events = await eventsSince(ctx.stripe, cursor);
      const endpoints = (await ctx.stripe.webhookEndpoints.list({ limit: 100 })).data.filter(
        (e) => e.status === "enabled",
      ).length;
      const undelivered = events.filter((e) => e.pending_webhooks > 0).map((e) => `${e.type} ${e.id}`);
      result = {
        step,
        ok: undelivered.length === 0,
        detail,
        subscription: sub.id,
        status: sub.status,
        events: events.map((e) => e.type),
        undelivered,
        endpoints,
        platform: ctx.reports,
      };
    } catch (error) {
      result = {
        step,
        ok: false,
        detail: (error as Error).message,
        events: [],
        undelivered: [],
        endpoints: 0,
        platform: ctx.reports,
        ...(error instanceof PlatformTimeoutError ? { timedOut: true } : {}),
      };
    }
    options.onStep?.(result);
    if (!result.ok) return false;
  }
  return true;
}
