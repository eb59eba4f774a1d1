/**
 * Which Stripe price buys which tier (`STRIPE_PRICE_TIERS`: `price_id=tier,…`),
 * parsed once for every process that reads it. Unset, it maps the price ids
 * the local Stripe API seeds (`price_mindroom_<tier>`), so tests, `./platform
 * start` and the defaults agree.
 */
import { isTierId, TIER_IDS, type TierId } from "../components/tiers.ts";

export class PriceTiersError extends Error {
  override readonly name = "PriceTiersError";
}

/** The price id a tier has on the local Stripe API. */
export function localPriceId(tier: TierId): string {
  return `price_mindroom_${tier}`;
}

/** The default `STRIPE_PRICE_TIERS`: `price_mindroom_free=free,…`. */
export const DEFAULT_PRICE_TIERS = TIER_IDS.map((tier) => `${localPriceId(tier)}=${tier}`).join(",");

/** `price_a=starter,price_b=enterprise` → price id → tier; every tier one of components/tiers.ts. */
export function parsePriceTiers(raw: string): Map<string, TierId> {
  const map = new Map<string, TierId>();
  for (const entry of raw
    .split(",")
    .map((e) => e.trim())
    .filter(Boolean)) {
    const [price = "", tierId = ""] = entry.split("=").map((s) => s.trim());
    if (!/^[A-Za-z0-9_]+$/.test(price) || !isTierId(tierId)) {
      throw new PriceTiersError(
        `STRIPE_PRICE_TIERS entry ${JSON.stringify(entry)} must be <price id>=<${TIER_IDS.join("|")}>`,
      );
    }
    map.set(price, tierId);
  }
  if (map.size === 0) throw new PriceTiersError("STRIPE_PRICE_TIERS maps no price to a tier");
  return map;
}
