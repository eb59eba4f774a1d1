/**
 * The fixed local test values of the contract: one monthly USD price per tier
 * (`price_mindroom_<tier>`, product `prod_mindroom_<tier>`, metadata
 * `tier=<tier>`). Seeded into every local Stripe API, so ids are the same in
 * tests, on `./platform start`, and in `STRIPE_PRICE_TIERS`' default
 * (billing/priceTiers.ts).
 */
import { localPriceId } from "../billing/priceTiers.ts";
import { TIER_IDS, TIERS, type TierId } from "../components/tiers.ts";

export interface CatalogEntry {
  tier: TierId;
  name: string;
  productId: string;
  priceId: string;
  /** Cents per month, from components/tiers.ts (custom pricing: LOCAL_CUSTOM_PRICE_CENTS). */
  unitAmount: number;
}

/** Enterprise is priced by sales in production; the local API needs some price for it. */
const LOCAL_CUSTOM_PRICE_CENTS = 99900;

export const LOCAL_CATALOG: readonly CatalogEntry[] = TIER_IDS.map((tier) => ({
  tier,
  name: `MindRoom ${TIERS[tier].label}`,
  productId: `prod_mindroom_${tier}`,
  priceId: localPriceId(tier),
  unitAmount: TIERS[tier].monthlyPriceCents ?? LOCAL_CUSTOM_PRICE_CENTS,
}));

/** Catalog timestamps are fixed so seeded objects are identical across runs. */
export const CATALOG_CREATED = 1_764_374_400; // 2025-11-29T00:00:00Z
