/**
 * Instance rows in tests: a customer with one, as the webhook pipeline leaves
 * them, for tests that need a tenant the platform database knows (its actual
 * state and, when given, the spec and host the worker applies); and the row the
 * pipeline keeps for a customer, found by their Stripe id or their email.
 */
import type pg from "pg";
import type { TenantSpec } from "../components/tenantSpec.ts";
import { findCustomerByStripeId, upsertCustomerByStripeId } from "../database/customers.ts";
import type { ActualState } from "../database/instanceStates.ts";
import {
  createInstance,
  findInstanceByCustomer,
  type Instance,
  recordActual,
  updateDesired,
} from "../database/instances.ts";

export async function seedInstance(
  pool: pg.Pool,
  slug: string,
  options: { readonly state?: ActualState; readonly spec?: TenantSpec } = {},
): Promise<Instance> {
  const state = options.state ?? "running";
  const customer = await upsertCustomerByStripeId(pool, {
    stripeCustomerId: `cus_${slug}`,
    email: `${slug}@example.com`,
  });
  const row = await createInstance(pool, {
    customerId: customer.id,
    slug,
    tier: "starter",
    desiredState: state === "deleted" ? "deleted" : "running",
  });
  if (options.spec)
    await updateDesired(pool, row.id, {
      host: options.spec.host.url,
      spec: options.spec as unknown as Record<string, unknown>,
    });
  await recordActual(pool, row.id, { actualState: state });
  return row;
}

/** The instance row of the customer with this Stripe id, once the pipeline made one. */
export async function instanceOfStripeCustomer(
  pool: pg.Pool,
  stripeCustomerId: string,
): Promise<Instance | undefined> {
  const customer = await findCustomerByStripeId(pool, stripeCustomerId);
  return (customer ? await findInstanceByCustomer(pool, customer.id) : null) ?? undefined;
}

/** The instance row of the customer with this email, once the pipeline made one. */
export async function instanceOfEmail(pool: pg.Pool, email: string): Promise<Instance | undefined> {
  const { rows } = await pool.query<{ id: string }>("select id from public.customers where email = $1", [
    email,
  ]);
  const id = rows[0]?.id;
  return (id ? await findInstanceByCustomer(pool, id) : null) ?? undefined;
}
