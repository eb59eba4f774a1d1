/**
 * The signed-in customer's own tenant, as the portal acts on it (single sign-on, Matrix accounts):
 * read as the person, so RLS alone decides which instance comes back, and reduced to what those
 * actions need. The owner recorded in the tenant's spec is the account its runtime lets in.
 */
import { z } from "zod";
import { asPerson } from "./database.ts";
import type { Identity } from "./identity.ts";

export interface OwnTenant {
  readonly instanceId: string;
  readonly customerId: string;
  readonly stripeCustomerId: string | null;
  readonly slug: string;
  readonly tier: string;
  readonly actualState: string;
  /** `https://<slug>.<base>`: the runtime's public origin, the tickets' audience. */
  readonly appUrl: string | null;
  /** `https://<slug>.matrix.<base>`: the homeserver's public URL. */
  readonly matrixUrl: string | null;
  /** The account the runtime lets in (`ACCOUNT_ID`), when the tenant runs in platform auth mode. */
  readonly ownerAccountId: string | null;
  readonly homeserver: "tuwunel" | "synapse";
  /** The Matrix server name (the dashboard's domain). */
  readonly serverName: string;
  /** The Matrix bridges the customer enabled. */
  readonly bridges: readonly string[];
}

const row = z.object({
  id: z.string(),
  customer_id: z.string(),
  stripe_customer_id: z.string().nullable(),
  slug: z.string(),
  tier: z.string(),
  actual_state: z.string(),
  bridges: z.array(z.string()),
  outputs: z
    .object({ urls: z.object({ app: z.string(), matrix: z.string() }).partial() })
    .partial()
    .nullable(),
  spec: z
    .object({
      baseDomain: z.string(),
      homeserver: z.enum(["tuwunel", "synapse"]).optional(),
      platformAuth: z.object({ accountId: z.string() }).optional(),
    })
    .nullable(),
});

export async function ownTenant(identity: Identity): Promise<OwnTenant | null> {
  const found = await asPerson(identity.claims, async (db) => {
    const { rows } = await db.query(
      `select i.id, i.customer_id, c.stripe_customer_id, i.slug, i.tier, i.actual_state, i.bridges, i.outputs, i.spec
         from public.instances i join public.customers c on c.id = i.customer_id
        where c.user_id = $1`,
      [identity.userId],
    );
    return rows[0];
  });
  if (!found) return null;
  const r = row.parse(found);
  return {
    instanceId: r.id,
    customerId: r.customer_id,
    stripeCustomerId: r.stripe_customer_id,
    slug: r.slug,
    tier: r.tier,
    actualState: r.actual_state,
    appUrl: r.outputs?.urls?.app ?? null,
    matrixUrl: r.outputs?.urls?.matrix ?? null,
    ownerAccountId: r.spec?.platformAuth?.accountId ?? null,
    homeserver: r.spec?.homeserver ?? "tuwunel",
    serverName: r.spec ? `${r.slug}.${r.spec.baseDomain}` : r.slug,
    bridges: r.bridges,
  };
}
