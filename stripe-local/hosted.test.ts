/**
 * The hosted Checkout and Billing Portal pages, driven with plain HTTP form
 * posts exactly as a browser submits them (the portal's Chromium tests drive
 * the same pages later).
 */
import { randomUUID } from "node:crypto";
import type Stripe from "stripe";
import { beforeAll, describe, expect, it } from "vitest";
import { type LocalStripe, stripeLocal } from "../testing/stripeLocal.ts";

let local: LocalStripe;

beforeAll(async () => {
  local = await stripeLocal();
});

const email = () => `hosted-${randomUUID().slice(0, 8)}@example.com`;

function post(url: string, form: Record<string, string>): Promise<Response> {
  return fetch(url, {
    method: "POST",
    redirect: "manual",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(form),
  });
}

async function newSession(
  params: Partial<Stripe.Checkout.SessionCreateParams> = {},
): Promise<Stripe.Checkout.Session> {
  return local.stripe.checkout.sessions.create({
    mode: "subscription",
    line_items: [{ price: "price_mindroom_starter", quantity: 1 }],
    success_url: "https://portal.example/billing/success?session_id={CHECKOUT_SESSION_ID}",
    cancel_url: "https://portal.example/billing",
    ...params,
  });
}

describe("checkout session", () => {
  it("is open with a hosted URL on this server, and line_items only when expanded", async () => {
    const session = await newSession({
      customer_email: email(),
      client_reference_id: "user-1",
      metadata: { user_id: "u1" },
    });
    expect(session.id).toMatch(/^cs_test_/);
    expect(session).toMatchObject({
      object: "checkout.session",
      mode: "subscription",
      status: "open",
      payment_status: "unpaid",
      client_reference_id: "user-1",
      metadata: { user_id: "u1" },
      subscription: null,
      amount_total: 4900,
    });
    expect(session.url).toBe(`${local.url}/checkout/${session.id}`);
    expect(session.line_items).toBeUndefined();
    const withLines = await local.stripe.checkout.sessions.retrieve(session.id, { expand: ["line_items"] });
    expect(withLines.line_items?.data[0]?.price?.id).toBe("price_mindroom_starter");
    const lines = await local.stripe.checkout.sessions.listLineItems(session.id);
    expect(lines.data[0]?.amount_total).toBe(4900);
  });

  it("serves an accessible form: every input labelled, a submit button, a way back", async () => {
    const session = await newSession();
    const page = await (await fetch(session.url ?? "")).text();
    expect(page).toContain('<html lang="en">');
    expect(page).toContain("<main>");
    for (const id of ["email", "name", "card_number", "expiry", "cvc"]) {
      expect(page).toContain(`<label for="${id}">`);
      expect(page).toContain(`id="${id}"`);
    }
    expect(page).toMatch(/<button type="submit">Subscribe<\/button>/);
    expect(page).toContain('href="https://portal.example/billing"');
  });

  it("completes on submit: customer, active subscription, paid invoice, redirect to success_url", async () => {
    const address = email();
    const session = await newSession({ customer_email: address, client_reference_id: "user-2" });
    const response = await post(session.url ?? "", {
      name: "Ann Lee",
      card_number: "4242 4242 4242 4242",
      expiry: "12 / 34",
      cvc: "123",
    });
    expect(response.status).toBe(303);
    expect(response.headers.get("location")).toBe(
      `https://portal.example/billing/success?session_id=${session.id}`,
    );

    const done = await local.stripe.checkout.sessions.retrieve(session.id, {
      expand: ["subscription.latest_invoice", "customer"],
    });
    expect(done).toMatchObject({ status: "complete", payment_status: "paid", url: null });
    const customer = done.customer as Stripe.Customer;
    expect(customer.email).toBe(address);
    expect(customer.invoice_settings.default_payment_method).toMatch(/^pm_/);
    expect(done.customer_details?.email).toBe(address);
    const sub = done.subscription as Stripe.Subscription;
    expect(sub.status).toBe("active");
    expect((sub.latest_invoice as Stripe.Invoice | undefined)?.status).toBe("paid");

    const completed = (await local.stripe.events.list({ type: "checkout.session.completed", limit: 1 }))
      .data[0];
    const object = completed?.data.object as Stripe.Checkout.Session;
    expect(object).toMatchObject({
      id: session.id,
      client_reference_id: "user-2",
      subscription: sub.id,
      customer: customer.id,
    });

    const again = await post(session.url ?? "", { name: "x", card_number: "4242424242424242" });
    expect(again.status).toBe(410);
  });

  it("asks for the email when the session has none, and reuses an existing customer", async () => {
    const customer = await local.stripe.customers.create({ email: email() });
    const forCustomer = await newSession({ customer: customer.id });
    expect(await post(forCustomer.url ?? "", { card_number: "4242424242424242" })).toHaveProperty(
      "status",
      303,
    );
    const done = await local.stripe.checkout.sessions.retrieve(forCustomer.id);
    expect(done.customer).toBe(customer.id);

    const anonymous = await newSession();
    const missing = await post(anonymous.url ?? "", { card_number: "4242424242424242" });
    expect(missing.status).toBe(400);
    expect(await missing.text()).toContain('role="alert"');
  });

  it("declines card 4000 0000 0000 0002 and changes nothing", async () => {
    const session = await newSession({ customer_email: email() });
    const response = await post(session.url ?? "", { name: "Declined", card_number: "4000 0000 0000 0002" });
    expect(response.status).toBe(402);
    expect(await response.text()).toContain("Your card was declined.");
    const still = await local.stripe.checkout.sessions.retrieve(session.id);
    expect(still).toMatchObject({ status: "open", subscription: null, customer: null });
  });

  it("starts a trial from subscription_data.trial_period_days", async () => {
    const session = await newSession({
      customer_email: email(),
      subscription_data: { trial_period_days: 14, metadata: { source: "trial" } },
    });
    expect(await post(session.url ?? "", { card_number: "4242424242424242" })).toHaveProperty("status", 303);
    const done = await local.stripe.checkout.sessions.retrieve(session.id, { expand: ["subscription"] });
    const sub = done.subscription as Stripe.Subscription;
    expect(sub.status).toBe("trialing");
    expect(sub.metadata).toEqual({ source: "trial" });
    expect(done.payment_status).toBe("no_payment_required");
  });

  it("expires an open session", async () => {
    const session = await newSession();
    const expired = await local.stripe.checkout.sessions.expire(session.id);
    expect(expired.status).toBe("expired");
    expect(
      (await local.stripe.events.list({ type: "checkout.session.expired", limit: 1 })).data[0]?.data.object,
    ).toMatchObject({ id: session.id });
  });
});

describe("billing portal", () => {
  async function customerWithPlan(): Promise<{
    customer: Stripe.Customer;
    sub: Stripe.Subscription;
    portal: Stripe.BillingPortal.Session;
  }> {
    const customer = await local.stripe.customers.create({ email: email() });
    const sub = await local.stripe.subscriptions.create({
      customer: customer.id,
      items: [{ price: "price_mindroom_starter" }],
    });
    const portal = await local.stripe.billingPortal.sessions.create({
      customer: customer.id,
      return_url: "https://portal.example/account",
    });
    return { customer, sub, portal };
  }

  it("creates a session whose page lists the subscription with its actions and a way back", async () => {
    const { sub, portal } = await customerWithPlan();
    expect(portal).toMatchObject({
      object: "billing_portal.session",
      return_url: "https://portal.example/account",
    });
    expect(portal.url).toBe(`${local.url}/billing_portal/${portal.id}`);
    const page = await (await fetch(portal.url)).text();
    expect(page).toContain("MindRoom Starter");
    expect(page).toContain(`value="${sub.id}"`);
    expect(page).toMatch(/<label for="price-sub_[^"]+">Switch plan<\/label>/);
    expect(page).toContain(">Cancel plan</button>");
    expect(page).toContain('href="https://portal.example/account"');
  });

  it("switches plan, cancels at period end and undoes it, each emitting customer.subscription.updated", async () => {
    const { sub, portal } = await customerWithPlan();
    const switched = await post(portal.url, {
      action: "switch",
      subscription: sub.id,
      price: "price_mindroom_professional",
    });
    expect(switched.status).toBe(303);
    expect(switched.headers.get("location")).toBe(`/billing_portal/${portal.id}?done=switched`);
    expect((await local.stripe.subscriptions.retrieve(sub.id)).items.data[0]?.price.id).toBe(
      "price_mindroom_professional",
    );
    const [upgrade] = (await local.stripe.events.list({ type: "customer.subscription.updated", limit: 1 }))
      .data;
    expect(upgrade?.data.previous_attributes).toHaveProperty("items");

    await post(portal.url, { action: "cancel", subscription: sub.id });
    const ending = await local.stripe.subscriptions.retrieve(sub.id);
    expect(ending.cancel_at_period_end).toBe(true);
    const page = await (await fetch(`${portal.url}?done=canceled`)).text();
    expect(page).toContain('role="status"');
    expect(page).toContain("Don't cancel (renew)");

    await post(portal.url, { action: "renew", subscription: sub.id });
    expect((await local.stripe.subscriptions.retrieve(sub.id)).cancel_at_period_end).toBe(false);
  });

  it("refuses to act on another customer's subscription", async () => {
    const mine = await customerWithPlan();
    const theirs = await customerWithPlan();
    const response = await post(mine.portal.url, { action: "cancel", subscription: theirs.sub.id });
    expect(response.status).toBe(404);
    expect((await local.stripe.subscriptions.retrieve(theirs.sub.id)).cancel_at_period_end).toBe(false);
  });
});
