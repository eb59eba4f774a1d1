/**
 * The pipeline an engine test drives from Stripe: its own test database, a fresh local
 * Stripe API, and the webhook service (its reconcile worker on the real Pulumi engine)
 * registered as Stripe's webhook endpoint.
 */
import { randomBytes } from "node:crypto";
import { type TestDatabase, testDatabase } from "./database.ts";
import { type LocalStripe, stripeLocal } from "./stripeLocal.ts";
import {
  type WebhookServiceChild,
  type WebhookServiceOptions,
  webhookServiceChild,
} from "./webhookService.ts";

export interface StripePipeline {
  readonly db: TestDatabase;
  readonly stripe: LocalStripe;
  readonly service: WebhookServiceChild;
  /** The endpoint's signing secret, for tests that sign events themselves. */
  readonly webhookSecret: string;
}

export async function startStripePipeline(
  options: Omit<WebhookServiceOptions, "databaseUrl" | "stripe" | "webhookSecret">,
): Promise<StripePipeline> {
  // Hex: the service's setting check refuses base64url's "-" (testing/stripeLocal.ts's default secret).
  const webhookSecret = `whsec_${randomBytes(24).toString("hex")}`;
  const db = await testDatabase();
  let stripe: LocalStripe | undefined;
  try {
    stripe = await stripeLocal({ fresh: true });
    const service = await webhookServiceChild({ ...options, databaseUrl: db.url, stripe, webhookSecret });
    stripe.addWebhook(`${service.url}/stripe/webhook`, webhookSecret);
    return { db, stripe, service, webhookSecret };
  } catch (error) {
    // What started is stopped: a failed start leaves no server or database behind.
    await stripe?.stop();
    await db.close();
    throw error;
  }
}
