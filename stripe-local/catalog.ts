/**
 * The fixed local test values of the contract: the secret key and one monthly
 * USD price per tier (`price_mindroom_<tier>`, product `prod_mindroom_<tier>`,
 * metadata `tier=<tier>`). Seeded into every local Stripe API, so ids are the
 * same in tests, on `./platform start`, and in `STRIPE_PRICE_TIERS`' default.
 */

export const LOCAL_SECRET_KEY = "sk_test_mindroom_local";

export type Tier = "free" | "starter" | "professional" | "enterprise";

export interface CatalogEntry {
  tier: Tier;
  name: string;
  productId: string;
  priceId: string;
  /** Cents per month. Enterprise is custom in production; locally it is 99900. */
  unitAmount: number;
}

function entry(tier: Tier, name: string, unitAmount: number): CatalogEntry {
  return { tier, name, productId: `prod_mindroom_${tier}`, priceId: `price_mindroom_${tier}`, unitAmount };
}

export const LOCAL_CATALOG: readonly CatalogEntry[] = [
  entry("free", "MindRoom Free", 0),
  entry("starter", "MindRoom Starter", 4900),
  entry("professional", "MindRoom Professional", 19900),
  entry("enterprise", "MindRoom Enterprise", 99900),
];

/** The default `STRIPE_PRICE_TIERS`: `price_mindroom_free=free,…`. */
export const DEFAULT_PRICE_TIERS = LOCAL_CATALOG.map((e) => `${e.priceId}=${e.tier}`).join(",");

/** Catalog timestamps are fixed so seeded objects are identical across runs. */
export const CATALOG_CREATED = 1_764_374_400; // 2025-11-29T00:00:00Z
