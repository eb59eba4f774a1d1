/**
 * Stripe for the portal: the project's one client factory (stripe-local/client.ts, which maps
 * STRIPE_API_BASE to the local Stripe API or api.stripe.com) and the price ↔ tier mapping from
 * STRIPE_PRICE_TIERS.
 */
import type Stripe from "stripe";
import { stripeClient } from "../../../billing/stripeClient.ts";
import type { TierId } from "../../../components/tiers.ts";
import { portalSettings } from "./settings.ts";

let client: Stripe | undefined;

export function stripe(): Stripe {
  const settings = portalSettings();
  client ??= stripeClient({ secretKey: settings.stripeSecretKey, apiBase: settings.stripeApiBase });
  return client;
}

export function priceForTier(tier: TierId): string | undefined {
  for (const [price, id] of portalSettings().priceTiers) if (id === tier) return price;
  return undefined;
}
