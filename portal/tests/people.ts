/**
 * People for the portal's tests, made the way the platform makes them: an identity on the local
 * auth server, the customer row the portal links to it, and (as the worker would have left it) a
 * running instance with one finished operation and a day of usage. With `billing`, the customer
 * also has a real Stripe customer and a live Starter subscription on the local Stripe API, and our
 * projection of it, as the webhook pipeline records them.
 */
import type Stripe from "stripe";
import type { AuthClient } from "../../auth-server/client.ts";
import { createInstance, recordActual } from "../../database/instances.ts";
import { finishOperation, startOperation } from "../../database/operations.ts";
import { upsertSubscription } from "../../database/subscriptions.ts";
import type { PortalEnvironment } from "./environment.ts";

export const PASSWORD = "amber-quarry-notebook-57";

export interface Person {
  readonly email: string;
  readonly userId: string;
  /** The identity server's session token (the `mr_session` cookie's value). */
  readonly sessionToken: string;
  /** `mr_session=<token>`, for a Cookie header. */
  readonly cookie: string;
  readonly customerId: string;
  readonly stripeCustomerId: string;
  readonly instanceId: string;
  readonly slug: string;
  /** The live subscription, with `billing`. */
  readonly subscriptionId: string | undefined;
}

/** Stack outputs as a tenant records them (the parts the portal reads). */
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

export interface PersonOptions {
  /** A real Stripe customer and (unless `subscribed` is false) a live Starter subscription through this client. */
  readonly billing?: Stripe;
  readonly subscribed?: boolean;
  /** Also an operator. */
  readonly operator?: boolean;
}

export async function seedPerson(
  env: PortalEnvironment,
  auth: AuthClient,
  name: string,
  options: PersonOptions = {},
): Promise<Person> {
  const stamp = Date.now().toString(36);
  const email = `${name}-${stamp}@example.com`;
  const signed = await auth.signUp(email, PASSWORD);
  const userId = signed.session.identity.id;
  const stripeCustomer = options.billing ? await options.billing.customers.create({ email }) : undefined;
  const stripeCustomerId = stripeCustomer?.id ?? `cus_${name}${stamp}`;
  const { rows } = await env.db.pool.query(
    `insert into public.customers (user_id, email, stripe_customer_id) values ($1, $2, $3) returning id`,
    [userId, email, stripeCustomerId],
  );
  const customerId = String(rows[0]?.id);
  if (options.operator)
    await env.db.pool.query("insert into public.operators (user_id) values ($1)", [userId]);
  let subscriptionId: string | undefined;
  if (options.billing && options.subscribed !== false) {
    const sub = await options.billing.subscriptions.create({
      customer: stripeCustomerId,
      items: [{ price: "price_mindroom_starter" }],
    });
    subscriptionId = sub.id;
    await upsertSubscription(env.db.pool, {
      id: sub.id,
      customerId,
      stripeCustomerId,
      status: "active",
      priceId: "price_mindroom_starter",
      tier: "starter",
      cancelAtPeriodEnd: false,
      currentPeriodEnd: null,
      canceledAt: null,
      endedAt: null,
      trialEnd: null,
      stripeCreated: new Date(sub.created * 1000),
      lastSyncedAt: new Date(),
    });
  }
  const slug = `${name}-${stamp}`;
  const instance = await createInstance(env.db.pool, {
    customerId,
    slug,
    tier: "starter",
    desiredState: "running",
  });
  const op = await startOperation(env.db.pool, {
    instanceId: instance.id,
    kind: "up",
    trigger: "stripe",
    reason: `secret-${name}`,
  });
  await finishOperation(env.db.pool, op.id, { status: "succeeded" });
  await recordActual(env.db.pool, instance.id, {
    actualState: "running",
    outputs: tenantOutputs(slug, "starter"),
  });
  await env.db.pool.query(
    "insert into public.usage (instance_id, day, agents, messages, storage_bytes) values ($1, current_date, 2, 40, 1000)",
    [instance.id],
  );
  return {
    email,
    userId,
    sessionToken: signed.sessionToken,
    cookie: `mr_session=${signed.sessionToken}`,
    customerId,
    stripeCustomerId,
    instanceId: instance.id,
    slug,
    subscriptionId,
  };
}
