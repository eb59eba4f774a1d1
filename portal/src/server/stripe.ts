/**
 * Stripe for the portal: the shared client (`stripe-local/client.ts`, pointed at STRIPE_API_BASE)
 * and the price ↔ tier mapping from STRIPE_PRICE_TIERS.
 */
import Stripe from "stripe";
import type { TierId } from "../../../components/tiers.ts";
import { portalSettings } from "./settings.ts";

let client: Stripe | undefined;

export function stripe(): Stripe {
  const settings = portalSettings();
  if (!client) {
    // TODO(portal): switch to stripe-local/client.ts stripeClient() once it lands (same host/port/protocol split).
    const base = settings.stripeApiBase ? new URL(settings.stripeApiBase) : undefined;
    client = new Stripe(settings.stripeSecretKey, {
      maxNetworkRetries: 1,
      ...(base
        ? {
            host: base.hostname,
            port: Number(base.port || (base.protocol === "https:" ? 443 : 80)),
            protocol: base.protocol === "https:" ? "https" : "http",
          }
        : {}),
    });
  }
  return client;
}

export function priceForTier(tier: TierId): string | undefined {
  for (const [price, id] of portalSettings().priceTiers) if (id === tier) return price;
  return undefined;
}
