/**
 * The reconcile worker's writes, played by the test where the real pipeline (webhooks → queue →
 * worker → Pulumi on the Dokku host) is not wired into the portal's tests: it goes through the same
 * database repositories the worker uses, so the portal reads exactly the rows it would in production.
 * Subscriptions are read back from the real local Stripe API, never invented.
 */
import type pg from "pg";
import type Stripe from "stripe";
import { createInstance, recordActual, updateDesired } from "../../database/instances.ts";
import { finishOperation, recordProgress, startOperation } from "../../database/operations.ts";
import { type SubscriptionStatus, upsertSubscription } from "../../database/subscriptions.ts";

const PRICE_TIERS: Record<string, string> = {
  price_mindroom_free: "free",
  price_mindroom_starter: "starter",
  price_mindroom_professional: "professional",
  price_mindroom_enterprise: "enterprise",
};

export async function customerIdOfEmail(
  db: pg.Pool,
  email: string,
): Promise<{ id: string; stripe: string | null }> {
  const { rows } = await db.query("select id, stripe_customer_id from public.customers where email = $1", [
    email,
  ]);
  if (!rows[0]) throw new Error(`no customer row for ${email}`);
  return { id: String(rows[0].id), stripe: rows[0].stripe_customer_id as string | null };
}

/** Projects the customer's latest Stripe subscription, as the worker does after an event. */
export async function projectSubscription(
  db: pg.Pool,
  stripe: Stripe,
  customerId: string,
  stripeCustomerId: string,
) {
  const list = await stripe.subscriptions.list({ customer: stripeCustomerId, status: "all", limit: 1 });
  const sub = list.data[0];
  if (!sub) throw new Error(`Stripe has no subscription for ${stripeCustomerId}`);
  const item = sub.items.data[0];
  const price = item?.price.id ?? null;
  const periodEnd = item?.current_period_end;
  await upsertSubscription(db, {
    id: sub.id,
    customerId,
    stripeCustomerId,
    status: sub.status as SubscriptionStatus,
    priceId: price,
    tier: price ? (PRICE_TIERS[price] ?? null) : null,
    cancelAtPeriodEnd: sub.cancel_at_period_end,
    currentPeriodEnd: periodEnd ? new Date(periodEnd * 1000) : null,
    canceledAt: sub.canceled_at ? new Date(sub.canceled_at * 1000) : null,
    endedAt: sub.ended_at ? new Date(sub.ended_at * 1000) : null,
    trialEnd: sub.trial_end ? new Date(sub.trial_end * 1000) : null,
    stripeCreated: new Date(sub.created * 1000),
    lastSyncedAt: new Date(),
  });
  return {
    id: sub.id,
    tier: price ? PRICE_TIERS[price] : undefined,
    cancelAtPeriodEnd: sub.cancel_at_period_end,
    periodEnd,
  };
}

export function tenantOutputs(slug: string, tier: string) {
  return {
    slug,
    tier,
    status: "running",
    urls: {
      app: `https://${slug}.mindroom.test`,
      api: `https://${slug}.api.mindroom.test`,
      matrix: `https://${slug}.matrix.mindroom.test`,
    },
    host: "dokku-1.local:22",
  };
}

/** Creates the instance and an `up` operation that reports progress (what the dashboard polls). */
export async function startProvisioning(db: pg.Pool, customerId: string, slug: string, tier: string) {
  const instance = await createInstance(db, {
    customerId,
    slug,
    tier,
    desiredState: "running",
    host: "dokku-1.local:22",
    specHash: `spec-${slug}-${tier}`,
  });
  await recordActual(db, instance.id, { actualState: "provisioning" });
  const op = await startOperation(db, {
    instanceId: instance.id,
    kind: "up",
    trigger: "stripe",
    reason: "customer.subscription.created",
    specHash: `spec-${slug}-${tier}`,
  });
  await recordProgress(db, op.id, {
    step: "homeserver",
    done: 2,
    total: 5,
    message: "Starting the Matrix homeserver",
  });
  return { instanceId: instance.id, operationId: op.id };
}

export async function finishProvisioning(
  db: pg.Pool,
  instanceId: string,
  operationId: string,
  slug: string,
  tier: string,
) {
  const outputs = tenantOutputs(slug, tier);
  await finishOperation(db, operationId, { status: "succeeded", changes: { create: 12 }, outputs });
  await recordActual(db, instanceId, {
    actualState: "running",
    outputs,
    appliedSpecHash: `spec-${slug}-${tier}`,
    lastOperationId: operationId,
  });
}

/** A tier change applied by the worker: desired spec, an `up`, new outputs. */
export async function applyTier(db: pg.Pool, instanceId: string, slug: string, tier: string) {
  await updateDesired(db, instanceId, { tier, specHash: `spec-${slug}-${tier}` });
  const op = await startOperation(db, {
    instanceId,
    kind: "up",
    trigger: "stripe",
    reason: "customer.subscription.updated",
    specHash: `spec-${slug}-${tier}`,
  });
  await finishProvisioning(db, instanceId, op.id, slug, tier);
}

/** An ended subscription as the worker records it (desiredState.ts): suspended, deletion due after the grace. */
export async function scheduleDeletion(db: pg.Pool, instanceId: string, dueAt: Date) {
  await updateDesired(db, instanceId, { desiredState: "suspended", deletionDueAt: dueAt });
  await recordActual(db, instanceId, { actualState: "suspended" });
}
