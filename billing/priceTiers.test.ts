import { describe, expect, it } from "vitest";
import { TIER_IDS } from "../components/tiers.ts";
import { LOCAL_CATALOG } from "../stripe-local/catalog.ts";
import { DEFAULT_PRICE_TIERS, PriceTiersError, parsePriceTiers } from "./priceTiers.ts";

describe("STRIPE_PRICE_TIERS", () => {
  it("maps prices to tiers, rejecting unknown tiers and malformed entries", () => {
    expect([...parsePriceTiers(" price_a=starter, price_b=enterprise ")]).toEqual([
      ["price_a", "starter"],
      ["price_b", "enterprise"],
    ]);
    expect(() => parsePriceTiers("price_a=gold")).toThrow(PriceTiersError);
    expect(() => parsePriceTiers("price a=free")).toThrow(
      /must be <price id>=<free\|starter\|professional\|enterprise>/,
    );
    expect(() => parsePriceTiers("")).toThrow(/maps no price/);
  });

  it("defaults to every tier's price on the local Stripe API", () => {
    const defaults = parsePriceTiers(DEFAULT_PRICE_TIERS);
    expect([...defaults.values()]).toEqual([...TIER_IDS]);
    expect([...defaults.keys()]).toEqual(LOCAL_CATALOG.map((e) => e.priceId));
  });
});
