/**
 * The local Stripe API for tests: `stripeLocal()` starts one server per test
 * file (module-cached, so every call in a file shares it) and returns its URL,
 * a stripe-node client built the way the project builds it, a webhook signing
 * secret, and the lifecycle controls. `stripeLocal({ fresh: true })` starts a
 * dedicated one (stop it in afterAll). Servers do not keep the worker alive.
 *
 *   const local = await stripeLocal();
 *   local.addWebhook(`${receiver.url}/stripe/webhook`); // signed with local.webhookSecret
 *   const sub = await local.stripe.subscriptions.create({ ... });
 *   await local.controls.paymentFailed(sub.id);
 *   await local.idle(); // every event delivered (or out of retries)
 */
import { randomBytes } from "node:crypto";
import { createServer } from "node:http";
import Stripe from "stripe";
import { stripeClient } from "../billing/stripeClient.ts";
import { type LocalControls, localControls } from "../stripe-local/controls.ts";
import { type StripeLocal, type StripeLocalOptions, startStripeLocal } from "../stripe-local/server.ts";

export interface LocalStripe {
  /** STRIPE_API_BASE for the code under test. */
  url: string;
  secretKey: string;
  /** The project's Stripe client pointed at this server. */
  stripe: Stripe;
  /** The `whsec_…` that {@link addWebhook} registers endpoints with by default. */
  webhookSecret: string;
  controls: LocalControls;
  /** Registers a webhook endpoint (all events) signed with {@link webhookSecret} unless `secret` is given. */
  addWebhook(url: string, secret?: string): { id: string; secret: string };
  /** Resolves once every event is delivered or out of retries. */
  idle(): Promise<void>;
  server: StripeLocal;
  stop(): Promise<void>;
}

/** A customer completes Checkout for a plan (starter unless `price`), as on Stripe's hosted page. */
export async function checkOut(
  local: Pick<LocalStripe, "stripe" | "controls">,
  customer: { readonly email: string; readonly name: string },
  price = "price_mindroom_starter",
): Promise<{ customer: string; subscription: string }> {
  const session = await local.stripe.checkout.sessions.create({
    mode: "subscription",
    line_items: [{ price, quantity: 1 }],
    customer_email: customer.email,
    success_url: "https://app.mindroom.test/welcome",
  });
  const { session: done } = await local.controls.completeCheckout(session.id, customer);
  return { customer: String(done.customer), subscription: String(done.subscription) };
}

export interface StripeLocalTestOptions extends Omit<StripeLocalOptions, "port" | "host"> {
  /** A server of its own instead of the file's shared one. */
  fresh?: boolean;
}

/** Short retries so a test sees redelivery within a second. */
const TEST_RETRY_DELAYS_MS = [100, 200, 400, 800];

let shared: Promise<LocalStripe> | undefined;

async function start(options: StripeLocalTestOptions): Promise<LocalStripe> {
  const server = await startStripeLocal({ retryDelaysMs: TEST_RETRY_DELAYS_MS, unref: true, ...options });
  const webhookSecret = `whsec_${randomBytes(24).toString("base64url")}`;
  return {
    url: server.url,
    secretKey: server.secretKey,
    stripe: stripeClient({ secretKey: server.secretKey, apiBase: server.url, maxNetworkRetries: 0 }),
    webhookSecret,
    controls: localControls(server.url, server.secretKey),
    addWebhook: (url, secret) => server.addWebhookEndpoint({ url, secret: secret ?? webhookSecret }),
    idle: () => server.idle(),
    server,
    stop: () => server.stop(),
  };
}

export function stripeLocal(options: StripeLocalTestOptions = {}): Promise<LocalStripe> {
  if (options.fresh) return start(options);
  shared ??= start(options);
  return shared;
}

export interface ReceivedDelivery {
  status: number;
  /** The verified event, or undefined when verification failed. */
  event: Stripe.Event | undefined;
  signature: string;
  error: string | undefined;
}

export interface WebhookReceiver {
  url: string;
  /** Every request, in arrival order. */
  deliveries: ReceivedDelivery[];
  /** Verified events, in arrival order (including repeats). */
  events(): Stripe.Event[];
  /** Answer the next `count` requests with `status` (default 500) without accepting them. */
  failNext(count: number, status?: number): void;
  close(): Promise<void>;
}

/**
 * A webhook endpoint for tests of the local API itself: verifies each request
 * with stripe-node's `constructEvent` on the raw body and records it.
 */
export async function webhookReceiver(secret: string): Promise<WebhookReceiver> {
  const deliveries: ReceivedDelivery[] = [];
  let failures: { count: number; status: number } = { count: 0, status: 500 };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const raw = Buffer.concat(chunks).toString("utf8");
      const signature = String(req.headers["stripe-signature"] ?? "");
      if (failures.count > 0) {
        failures = { ...failures, count: failures.count - 1 };
        deliveries.push({ status: failures.status, event: undefined, signature, error: "told to fail" });
        res.writeHead(failures.status).end();
        return;
      }
      try {
        const event = Stripe.webhooks.constructEvent(raw, signature, secret);
        deliveries.push({ status: 200, event, signature, error: undefined });
        res.writeHead(200, { "content-type": "application/json" }).end('{"received":true}');
      } catch (error) {
        deliveries.push({ status: 400, event: undefined, signature, error: (error as Error).message });
        res.writeHead(400).end((error as Error).message);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  server.unref();
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}/stripe/webhook`,
    deliveries,
    events: () => deliveries.flatMap((d) => (d.event ? [d.event] : [])),
    failNext: (count, status = 500) => {
      failures = { count, status };
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
