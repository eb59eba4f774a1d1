/**
 * What a reconcile records before it acts: the customer's subscriptions as
 * Stripe reports them, the instance row (its slug fixed at creation; its host
 * by placement, capacity.ts), and the audit of a changed deletion schedule;
 * each with the emails it causes (a failed payment, a scheduled deletion),
 * queued on the same transaction (webhooks/notifications/customerEmails.ts).
 */
import type pg from "pg";
import { audit } from "../../database/auditLog.ts";
import { type Customer, findCustomerByStripeId, upsertCustomerByStripeId } from "../../database/customers.ts";
import {
  findInstanceByCustomer,
  type Instance,
  InstanceConflictError,
  createInstance as insertInstance,
} from "../../database/instances.ts";
import { upsertSubscription } from "../../database/subscriptions.ts";
import { transaction } from "../../database/transaction.ts";
import {
  emailsForDeletionSchedule,
  emailsForPaymentFailure,
  queueCustomerEmails,
} from "../notifications/customerEmails.ts";
import type { Wanted } from "./jobDecisions.ts";
import type { ReconcileSettings } from "./settings.ts";
import {
  type FetchedSubscription,
  fetchCustomer,
  fetchSubscriptions,
  type StripeReader,
} from "./stripeSubscriptions.ts";
import { tenantSlug } from "./tenantSlug.ts";

/**
 * The truth, from Stripe (never the payload that woke us), recorded: the
 * customer row (created on their first subscription) and every subscription.
 */
export async function syncFromStripe(
  pool: pg.Pool,
  stripe: StripeReader,
  customerKey: string,
  priceTiers: ReconcileSettings["priceTiers"],
): Promise<{ customer: Customer | null; subscriptions: FetchedSubscription[] }> {
  const subscriptions = await fetchSubscriptions(stripe, customerKey);
  const fetchedAt = new Date();
  let customer = await findCustomerByStripeId(pool, customerKey);
  if (!customer) {
    if (subscriptions.length === 0) return { customer: null, subscriptions };
    const facts = await fetchCustomer(stripe, customerKey);
    customer = await upsertCustomerByStripeId(pool, {
      stripeCustomerId: customerKey,
      email: facts.email,
      displayName: facts.name,
    });
  }
  for (const s of subscriptions) {
    await transaction(pool, async (tx) => {
      const { applied } = await upsertSubscription(tx, {
        id: s.id,
        customerId: customer.id,
        stripeCustomerId: s.stripeCustomerId,
        status: s.status,
        priceId: s.priceId,
        tier: s.priceId ? (priceTiers.get(s.priceId) ?? null) : null,
        cancelAtPeriodEnd: s.cancelAtPeriodEnd,
        currentPeriodEnd: s.currentPeriodEnd,
        canceledAt: s.canceledAt,
        endedAt: s.endedAt,
        trialEnd: s.trialEnd,
        stripeCreated: s.created,
        lastSyncedAt: fetchedAt,
      });
      if (!applied) return;
      const instance = await findInstanceByCustomer(tx, (customer as Customer).id);
      await queueCustomerEmails(
        tx,
        customer as Customer,
        instance?.id ?? null,
        emailsForPaymentFailure(customer as Customer, instance, s, fetchedAt),
      );
    });
  }
  return { customer, subscriptions };
}

export async function createInstance(
  pool: pg.Pool,
  customer: Customer,
  desired: Wanted,
  actor: string,
  reason: string,
): Promise<Instance> {
  for (let attempt = 0; ; attempt++) {
    const slug = tenantSlug({
      stripeCustomerId: customer.stripeCustomerId ?? customer.id,
      email: customer.email,
      name: customer.displayName,
      attempt,
    });
    try {
      return await transaction(pool, async (tx) => {
        const row = await insertInstance(tx, {
          customerId: customer.id,
          slug,
          stackName: slug,
          tier: desired.tier,
          desiredState: desired.state,
        });
        await audit(tx, {
          actor,
          customerId: customer.id,
          instanceId: row.id,
          action: "instance.created",
          reason,
          details: { slug, tier: desired.tier },
        });
        return row;
      });
    } catch (error) {
      if (!(error instanceof InstanceConflictError)) throw error;
      // A concurrent reconcile of the same customer created it (the queue makes this rare)…
      const existing = await findInstanceByCustomer(pool, customer.id);
      if (existing) return existing;
      // …or another customer holds this slug: the next attempt lengthens the suffix.
      if (attempt >= 4) throw error;
    }
  }
}

/** The audit of a changed deletion schedule and the customer's notice of a new date, on `tx`. */
export async function recordDeletionSchedule(
  tx: pg.PoolClient,
  customer: Customer,
  rows: { readonly before: Instance; readonly after: Instance },
  change: { readonly actor: string; readonly reason: string; readonly endedAt: Date },
): Promise<void> {
  const { before, after } = rows;
  const { actor, reason } = change;
  const was = before.deletionDueAt?.getTime() ?? null;
  const now = after.deletionDueAt?.getTime() ?? null;
  if (was === now) return;
  const action =
    now === null ? "deletion.cancelled" : was === null ? "deletion.scheduled" : "deletion.rescheduled";
  const entry = await audit(tx, {
    actor,
    customerId: after.customerId,
    instanceId: after.id,
    action,
    reason,
    details: { deletionDueAt: after.deletionDueAt?.toISOString() ?? null },
  });
  // The audit entry is this schedule change's identity: one notice per change.
  await queueCustomerEmails(
    tx,
    customer,
    after.id,
    emailsForDeletionSchedule(customer, { after, endedAt: change.endedAt, changeId: String(entry.id) }),
  );
}
