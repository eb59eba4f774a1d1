/**
 * One live subscription per customer, against the built portal and the local Stripe API: what
 * the customer has is read from Stripe, so a second Checkout is refused whether the billing page
 * already shows the first subscription or not (the plan changes in place instead, or the customer
 * is told how to change it), concurrent Checkouts leave at most one that can complete, and cancel
 * and account deletion end every subscription the customer has in Stripe, including ones made
 * behind the portal's back.
 */
import type Stripe from "stripe";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AuthClient } from "../../auth-server/client.ts";
import { stripeClient } from "../../billing/stripeClient.ts";
import { openBrowser, type Session } from "./browser.ts";
import { type PortalEnvironment, startPortalEnvironment } from "./environment.ts";
import { type Person, type PersonOptions, seedPerson } from "./people.ts";
import {
  type CallResult,
  callServerFunction,
  type ServerFunction,
  serverFunctions,
} from "./serverFunctions.ts";

let env: PortalEnvironment;
let stripe: Stripe;
let auth: AuthClient;
let functions: ServerFunction[];

function person(name: string, options: Omit<PersonOptions, "billing"> = {}): Promise<Person> {
  return seedPerson(env, auth, name, { billing: stripe, ...options });
}

function call(name: string, who: Person, fields: Record<string, string> = {}): Promise<CallResult> {
  const fn = functions.find((f) => f.name === name);
  if (!fn) throw new Error(`no server function ${name} in the build`);
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) form.set(k, v);
  return callServerFunction(env.url, fn.id, who.cookie, form);
}

async function subscriptionsOf(who: Person): Promise<Stripe.Subscription[]> {
  return (await stripe.subscriptions.list({ customer: who.stripeCustomerId, status: "all" })).data;
}

async function checkoutsOf(who: Person): Promise<Stripe.Checkout.Session[]> {
  return (await stripe.checkout.sessions.list({ customer: who.stripeCustomerId })).data;
}

/** A subscription made in Stripe without the portal (the Dashboard, another tab's Checkout). */
function behindTheBack(who: Person, price = "price_mindroom_starter"): Promise<Stripe.Subscription> {
  return stripe.subscriptions.create({ customer: who.stripeCustomerId, items: [{ price }] });
}

beforeAll(async () => {
  env = await startPortalEnvironment();
  stripe = stripeClient({ secretKey: env.stripe.secretKey, apiBase: env.stripe.url, maxNetworkRetries: 0 });
  auth = new AuthClient({ authUrl: env.auth.authUrl });
  functions = serverFunctions(env.buildDir);
});

afterAll(async () => {
  await env?.stop();
});

describe("a second Checkout", () => {
  it("is refused while the subscription the page shows bills: the same plan is a no-op, another changes in place", async () => {
    const ada = await person("ada");
    const same = await call("choosePlan", ada, { tier: "starter" });
    expect(same.body).toContain("You are already on this plan.");
    const other = await call("choosePlan", ada, { tier: "professional" });
    expect(other.location).toBeNull();
    expect(other.body).toContain("Changing your plan to Professional.");
    const subs = await subscriptionsOf(ada);
    expect(subs.map((s) => [s.id, s.status, s.items.data[0]?.price.id])).toEqual([
      [ada.subscriptionId, "active", "price_mindroom_professional"],
    ]);
    expect(await checkoutsOf(ada)).toEqual([]);
  });

  it("is refused in the browser while a subscription bills that the page does not show yet, with the way to change plan", async () => {
    const ben = await person("ben");
    // The webhook has not caught up: our table knows nothing of Ben's subscription.
    await env.db.pool.query("delete from public.subscriptions where id = $1", [ben.subscriptionId]);
    const browser: Session = await openBrowser();
    try {
      await browser.context.addCookies([
        {
          name: "mr_session",
          value: ben.sessionToken,
          url: env.url,
          httpOnly: true,
          secure: true,
          sameSite: "Lax",
        },
      ]);
      const page = browser.page;
      await page.goto(`${env.url}/billing`);
      await page.getByRole("button", { name: "Choose the Professional plan" }).click();
      const notice = page.getByRole("alert").filter({ hasText: "nothing was bought" });
      await expect.poll(() => notice.count()).toBe(1);
      expect(await notice.textContent()).toContain("You already have a Starter subscription (active)");
      expect(await notice.textContent()).toContain("Invoices and payment methods");
      expect(new URL(page.url()).pathname).toBe("/billing");
      // The way out is on the page: the Billing Portal button.
      expect(await page.getByRole("button", { name: "Invoices and payment methods ↗" }).count()).toBe(1);
    } finally {
      await browser.close();
    }
    expect((await subscriptionsOf(ben)).map((s) => [s.id, s.status, s.items.data[0]?.price.id])).toEqual([
      [ben.subscriptionId, "active", "price_mindroom_starter"],
    ]);
    expect(await checkoutsOf(ben)).toEqual([]);
  });

  it("started several times at once leaves one Checkout that can complete; after it, another is refused", async () => {
    const cleo = await person("cleo", { subscribed: false });
    const answers = await Promise.all([1, 2, 3].map(() => call("choosePlan", cleo, { tier: "starter" })));
    for (const answer of answers) expect(answer.location).toMatch(/\/checkout\/cs_/);
    const sessions = await checkoutsOf(cleo);
    expect(sessions).toHaveLength(3);
    const open = sessions.filter((s) => s.status === "open");
    expect(open).toHaveLength(1);
    expect(sessions.filter((s) => s.status === "expired")).toHaveLength(2);
    // An earlier tab's Checkout can no longer be paid; the latest can.
    const stale = sessions.find((s) => s.status === "expired");
    await expect(completeCheckout(stale?.id ?? "none")).rejects.toThrow(/expired/);
    await completeCheckout(open[0]?.id ?? "");
    expect((await subscriptionsOf(cleo)).map((s) => s.status)).toEqual(["active"]);
    // The subscription exists in Stripe before any webhook reached us: a new Checkout is refused.
    const again = await call("choosePlan", cleo, { tier: "professional" });
    expect(again.location).toBeNull();
    expect(again.body).toContain("nothing was bought");
    expect(await checkoutsOf(cleo)).toHaveLength(3);
  });
});

function completeCheckout(id: string) {
  return fetch(`${env.stripe.url}/_local/checkout/sessions/${id}/complete`, {
    method: "POST",
    headers: { authorization: `Bearer ${env.stripe.secretKey}` },
  }).then(async (answer) => {
    if (!answer.ok) throw new Error(`completing ${id}: ${answer.status} ${await answer.text()}`);
  });
}

describe("ending", () => {
  it("cancel sets every subscription the customer has in Stripe to end at period end", async () => {
    const dora = await person("dora");
    const extra = [await behindTheBack(dora), await behindTheBack(dora, "price_mindroom_professional")];
    const answer = await call("cancelSubscription", dora);
    expect(answer.body).toContain("will end at the close of this billing period");
    const subs = await subscriptionsOf(dora);
    expect(subs.map((s) => s.id).sort()).toEqual([dora.subscriptionId, ...extra.map((s) => s.id)].sort());
    for (const s of subs) expect([s.id, s.status, s.cancel_at_period_end]).toEqual([s.id, "active", true]);
  });

  it("deleting the account ends every subscription of the customer now, and any open Checkout", async () => {
    const eve = await person("eve");
    const extra = [await behindTheBack(eve), await behindTheBack(eve, "price_mindroom_professional")];
    const open = await stripe.checkout.sessions.create({
      mode: "subscription",
      customer: eve.stripeCustomerId,
      line_items: [{ price: "price_mindroom_starter", quantity: 1 }],
      success_url: `${env.url}/dashboard`,
      cancel_url: `${env.url}/billing`,
    });
    const answer = await call("deleteAccount", eve, { confirm: "DELETE" });
    expect(answer.location).toMatch(/\/goodbye$/);
    const subs = await subscriptionsOf(eve);
    expect(subs.map((s) => s.id).sort()).toEqual([eve.subscriptionId, ...extra.map((s) => s.id)].sort());
    for (const s of subs) expect([s.id, s.status]).toEqual([s.id, "canceled"]);
    expect((await stripe.checkout.sessions.retrieve(open.id)).status).toBe("expired");
    const audit = await env.db.pool.query(
      "select details from public.audit_log where action = 'customer.delete_account' and customer_id = $1",
      [eve.customerId],
    );
    expect(audit.rows[0]?.details.subscriptions.sort()).toEqual(subs.map((s) => s.id).sort());
    const user = await env.db.pool.query("select 1 from auth.users where id = $1", [eve.userId]);
    expect(user.rowCount).toBe(0);
  });
});
