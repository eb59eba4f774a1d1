/**
 * Billing on a customer's behalf: Checkout for a first plan, in-place plan changes, the Billing
 * Portal, cancel at period end and reactivation. Stripe is the source of truth; the webhook → queue
 * → worker loop updates our rows, and the billing page shows the result once it has. The subscription
 * acted on is always the one RLS lets this person read.
 */
import { redirect } from "@solidjs/router";
import type { TierId } from "../../../components/tiers.ts";
import { audit } from "../../../database/auditLog.ts";
import { isLiveSubscription } from "../../../database/subscriptions.ts";
import type { FormResult } from "../lib/formResult.ts";
import { type CustomerRow, customerView, type SubscriptionRow } from "./customerView.ts";
import { asPerson, servicePool } from "./database.ts";
import { failure } from "./forms.ts";
import type { Identity } from "./identity.ts";
import { portalSettings } from "./settings.ts";
import { priceForTier, stripe } from "./stripe.ts";

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

/** A first plan goes through Checkout (thrown redirect); a live subscription changes in place. */
export async function choosePlan(identity: Identity, tier: TierId): Promise<FormResult> {
  const price = priceForTier(tier);
  if (!price)
    return failure("That plan cannot be bought online yet: contact us.", { tier: "Not available." });
  const { customer, subscription } = await own(identity);
  const live = liveSubscription(subscription);
  if (live) {
    if (live.tier === tier)
      return failure(`You are already on this plan.`, { tier: "This is your current plan." });
    const current = await stripe().subscriptions.retrieve(live.id);
    const item = current.items.data[0];
    if (!item) return failure("Your subscription has no plan item; contact support.");
    await stripe().subscriptions.update(live.id, {
      items: [{ id: item.id, price }],
      proration_behavior: "create_prorations",
      cancel_at_period_end: false,
    });
    await auditBilling(identity, customer, "customer.change_plan", {
      from: live.tier,
      to: tier,
      subscription: live.id,
    });
    return {
      ok: true,
      message: `Changing your plan to ${tier}. Your new limits apply as soon as your instance is updated.`,
    };
  }
  const customerId = await stripeCustomerOf(identity, customer);
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

export async function setCancelAtPeriodEnd(identity: Identity, cancel: boolean): Promise<FormResult> {
  const { customer, subscription } = await own(identity);
  const live = liveSubscription(subscription);
  if (!live) return failure("You have no active subscription to change.");
  if (live.cancelAtPeriodEnd === cancel) {
    return failure(
      cancel ? "Your subscription is already set to end." : "Your subscription is already active.",
    );
  }
  await stripe().subscriptions.update(live.id, { cancel_at_period_end: cancel });
  await auditBilling(identity, customer, cancel ? "customer.cancel" : "customer.reactivate", {
    subscription: live.id,
  });
  return {
    ok: true,
    message: cancel
      ? "Your subscription will end at the close of this billing period. You can reactivate until then."
      : "Welcome back: your subscription continues.",
  };
}

/** Ends the subscription now (account deletion): the worker schedules deletion as for any cancellation. */
export async function cancelNow(identity: Identity): Promise<void> {
  const { customer, subscription } = await own(identity);
  const live = liveSubscription(subscription);
  if (live) await stripe().subscriptions.cancel(live.id);
  await auditBilling(identity, customer, "customer.delete_account", { subscription: live?.id ?? null });
}
