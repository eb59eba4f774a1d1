/**
 * A customer with one instance row, as the webhook pipeline leaves them, for
 * tests that need a tenant the platform database knows: its actual state and,
 * when given, the spec (and host) the worker applies.
 */
import type pg from "pg";
import type { TenantSpec } from "../components/tenantSpec.ts";
import { upsertCustomerByStripeId } from "../database/customers.ts";
import type { ActualState } from "../database/instanceStates.ts";
import { createInstance, type Instance, recordActual, updateDesired } from "../database/instances.ts";

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
