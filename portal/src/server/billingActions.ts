/**
 * Billing on a customer's behalf: Checkout for a first plan, in-place plan changes, the Billing
 * Portal, cancel at period end and reactivation, and ending everything when the account goes.
 * Stripe is the source of truth: what the customer has is listed from Stripe (subscriptionRules.ts
 * decides), the webhook → queue → worker loop updates our rows, and the billing page shows the
 * result once it has. The customer is always the one RLS lets this person read.
 */
import { redirect } from "@solidjs/router";
import { type TierId, tier as tierOf } from "../../../components/tiers.ts";
import { audit } from "../../../database/auditLog.ts";
import { isLiveSubscription } from "../../../database/subscriptions.ts";
import { transaction } from "../../../database/transaction.ts";
import { fetchSubscriptions } from "../../../webhooks/reconcile/stripeSubscriptions.ts";
import type { FormResult } from "../lib/formResult.ts";
import { type CustomerRow, customerView, type SubscriptionRow } from "./customerView.ts";
import { asPerson, servicePool } from "./database.ts";
import { failure } from "./forms.ts";
import type { Identity } from "./identity.ts";
import { portalSettings } from "./settings.ts";
import { priceForTier, stripe } from "./stripe.ts";
import {
  cancellationPlan,
  decidePlan,
  type StripeSubscriptionFacts,
  subscriptionsToEnd,
} from "./subscriptionRules.ts";

async function own(identity: Identity) {
  const view = await asPerson(identity.claims, (db) => customerView(db, 1));
  if (!view.customer) throw new Error("no customer row for a signed-in person: sign out and in again");
  return view as typeof view & { customer: CustomerRow };
}

async function stripeCustomerOf(identity: Identity, customer: CustomerRow): Promise<string> {
  if (customer.stripeCustomerId) return customer.stripeCustomerId;
  const created = await stripe().customers.create(
    { email: identity.email, metadata: { customer_id: customer.id, user_id: identity.userId } },
    { idempotencyKey: `portal-customer-${customer.id}` },
  );
  // Whoever links first wins; a concurrent request reads the winner back.
  const { rows } = await servicePool().query<{ stripe_customer_id: string }>(
    `update public.customers set stripe_customer_id = coalesce(stripe_customer_id, $2), updated_at = now()
      where id = $1 returning stripe_customer_id`,
    [customer.id, created.id],
  );
  return rows[0]?.stripe_customer_id ?? created.id;
}

function auditBilling(
  identity: Identity,
  customer: CustomerRow,
  action: string,
  details: Record<string, unknown>,
) {
  return audit(servicePool(), {
    actor: `customer:${identity.email}`,
    actorUserId: identity.userId,
    customerId: customer.id,
    instanceId: null,
    action,
    reason: null,
    details,
  });
}

function liveSubscription(sub: SubscriptionRow | null): SubscriptionRow | null {
  return sub && isLiveSubscription(sub.status) ? sub : null;
}

/**
 * Billing changes for one customer run one at a time (a Postgres advisory lock held for the
 * duration), so two tabs or a double click cannot both find "no subscription" and open two
 * Checkouts, and a deletion cannot race a Checkout.
 */
function oneAtATime<T>(customer: CustomerRow, fn: () => Promise<T>): Promise<T> {
  return transaction(servicePool(), async (tx) => {
    await tx.query("select pg_advisory_xact_lock(hashtext('mindroom:billing'), hashtext($1))", [customer.id]);
    return fn();
  });
}

function planName(priceId: string | null): string {
  const id = priceId ? portalSettings().priceTiers.get(priceId) : undefined;
  return id ? tierOf(id).label : "current";
}

function refusal(billing: readonly StripeSubscriptionFacts[]): FormResult {
  const [one] = billing;
  if (billing.length === 1 && one)
    return failure(
      `You already have a ${planName(one.priceId)} subscription (${one.status.replace("_", " ")}), so nothing was bought. ` +
        "It shows on this page within moments; then choose a plan here to switch, or manage it with “Invoices and payment methods”.",
      { tier: "You already have a subscription." },
    );
  return failure(
    "You have more than one subscription, so nothing was bought. Manage them with “Invoices and payment methods”, or contact support.",
    { tier: "You already have a subscription." },
  );
}

/** Ends Checkouts still open for this customer, so at most one can ever complete. */
async function expireOpenCheckouts(stripeCustomerId: string): Promise<string[]> {
  const expired: string[] = [];
  for await (const session of stripe().checkout.sessions.list({
    customer: stripeCustomerId,
    status: "open",
    limit: 100,
  })) {
    // One that completed meanwhile cannot be expired; its subscription is seen on the next listing.
    await stripe()
      .checkout.sessions.expire(session.id)
      .then(() => expired.push(session.id))
      .catch(() => undefined);
  }
  return expired;
}

/**
 * A first plan goes through Checkout (thrown redirect); the one live subscription the customer
 * sees changes in place; with any other subscription billing in Stripe, Checkout is refused.
 */
export async function choosePlan(identity: Identity, tier: TierId): Promise<FormResult> {
  const price = priceForTier(tier);
  if (!price)
    return failure("That plan cannot be bought online yet: contact us.", { tier: "Not available." });
  const { customer, subscription } = await own(identity);
  const shown = liveSubscription(subscription)?.id ?? null;
  return oneAtATime(customer, async () => {
    const customerId = await stripeCustomerOf(identity, customer);
    let decision = decidePlan(await fetchSubscriptions(stripe(), customerId), shown, price);
    if (decision.kind === "checkout") {
      await expireOpenCheckouts(customerId);
      for (const id of decision.cancelFirst) await stripe().subscriptions.cancel(id);
      // A Checkout that completed while we expired the others has its subscription now.
      decision = decidePlan(await fetchSubscriptions(stripe(), customerId), shown, price);
    }
    switch (decision.kind) {
      case "already-on-plan":
        return failure("You are already on this plan.", { tier: "This is your current plan." });
      case "refuse":
        return refusal(decision.billing);
      case "change-plan":
        return changePlan(
          identity,
          customer,
          decision.subscriptionId,
          subscription?.tier ?? null,
          tier,
          price,
        );
      case "checkout":
        return checkout(identity, customer, customerId, tier, price);
    }
  });
}

async function changePlan(
  identity: Identity,
  customer: CustomerRow,
  subscriptionId: string,
  from: string | null,
  tier: TierId,
  price: string,
): Promise<FormResult> {
  const current = await stripe().subscriptions.retrieve(subscriptionId);
  const item = current.items.data[0];
  if (!item) return failure("Your subscription has no plan item; contact support.");
  await stripe().subscriptions.update(subscriptionId, {
    items: [{ id: item.id, price }],
    proration_behavior: "create_prorations",
    cancel_at_period_end: false,
  });
  await auditBilling(identity, customer, "customer.change_plan", {
    from,
    to: tier,
    subscription: subscriptionId,
  });
  return {
    ok: true,
    message: `Changing your plan to ${tierOf(tier).label}. Your new limits apply as soon as your instance is updated.`,
  };
}

async function checkout(
  identity: Identity,
  customer: CustomerRow,
  customerId: string,
  tier: TierId,
  price: string,
): Promise<FormResult> {
  const base = portalSettings().publicUrl;
  const session = await stripe().checkout.sessions.create({
    mode: "subscription",
    customer: customerId,
    client_reference_id: customer.id,
    line_items: [{ price, quantity: 1 }],
    success_url: `${base}/dashboard?checkout=success`,
    cancel_url: `${base}/billing?checkout=cancelled`,
    subscription_data: { metadata: { customer_id: customer.id } },
    metadata: { customer_id: customer.id },
  });
  if (!session.url) return failure("Stripe did not return a checkout page; please try again.");
  await auditBilling(identity, customer, "customer.checkout", { tier, session: session.id });
  throw redirect(session.url);
}

export async function openBillingPortal(identity: Identity): Promise<FormResult> {
  const { customer } = await own(identity);
  if (!customer.stripeCustomerId) return failure("You have no billing account yet: choose a plan first.");
  const session = await stripe().billingPortal.sessions.create({
    customer: customer.stripeCustomerId,
    return_url: `${portalSettings().publicUrl}/billing`,
  });
  throw redirect(session.url);
}

/**
 * Cancel (at period end) covers every subscription the customer has in Stripe; reactivation
 * applies to the one the customer sees.
 */
export async function setCancelAtPeriodEnd(identity: Identity, cancel: boolean): Promise<FormResult> {
  const { customer, subscription } = await own(identity);
  const live = liveSubscription(subscription);
  if (!live || !customer.stripeCustomerId) return failure("You have no active subscription to change.");
  const stripeCustomerId = customer.stripeCustomerId;
  return oneAtATime(customer, async () => {
    if (!cancel) {
      if (!live.cancelAtPeriodEnd) return failure("Your subscription is already active.");
      await stripe().subscriptions.update(live.id, { cancel_at_period_end: false });
      await auditBilling(identity, customer, "customer.reactivate", { subscription: live.id });
      return { ok: true, message: "Welcome back: your subscription continues." };
    }
    const plan = cancellationPlan(await fetchSubscriptions(stripe(), stripeCustomerId));
    if (plan.endAtPeriodEnd.length === 0 && plan.endNow.length === 0)
      return failure("Your subscription is already set to end.");
    for (const id of plan.endAtPeriodEnd)
      await stripe().subscriptions.update(id, { cancel_at_period_end: true });
    for (const id of plan.endNow) await stripe().subscriptions.cancel(id);
    await auditBilling(identity, customer, "customer.cancel", {
      subscriptions: [...plan.endAtPeriodEnd, ...plan.endNow],
    });
    return {
      ok: true,
      message:
        "Your subscription will end at the close of this billing period. You can reactivate until then.",
    };
  });
}

/**
 * Account deletion: every subscription the customer still has in Stripe ends now and every open
 * Checkout expires; the worker schedules the instance's deletion as for any cancellation.
 */
export async function cancelNow(identity: Identity): Promise<void> {
  const { customer } = await own(identity);
  const stripeCustomerId = customer.stripeCustomerId;
  await oneAtATime(customer, async () => {
    const ended: string[] = [];
    const expired: string[] = [];
    if (stripeCustomerId) {
      expired.push(...(await expireOpenCheckouts(stripeCustomerId)));
      for (const id of subscriptionsToEnd(await fetchSubscriptions(stripe(), stripeCustomerId))) {
        await stripe().subscriptions.cancel(id);
        ended.push(id);
      }
    }
    await auditBilling(identity, customer, "customer.delete_account", {
      subscriptions: ended,
      checkouts: expired,
    });
  });
}
