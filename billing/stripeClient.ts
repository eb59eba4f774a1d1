/**
 * The one way every part of the project builds its Stripe client: the API
 * version pinned to the one our objects are shaped for, `STRIPE_API_BASE`
 * mapped to stripe-node's host/port/protocol (unset or api.stripe.com in
 * production, the local Stripe API otherwise), bounded timeouts and retries.
 * The local Stripe API (stripe-local/) answers in the same version.
 */
import Stripe from "stripe";

/** The API version our objects are shaped for: the one this stripe-node release pins. */
export const STRIPE_API_VERSION = Stripe.API_VERSION;

/** `STRIPE_SECRET_KEY` when unset: the key the local Stripe API accepts (never valid at Stripe). */
export const LOCAL_SECRET_KEY = "sk_test_mindroom_local";

export interface StripeClientOptions {
  secretKey: string;
  /** `STRIPE_API_BASE`, e.g. `http://127.0.0.1:12111`; Stripe's own API when unset. */
  apiBase?: string | undefined;
  /** Per request; default 20 s. */
  timeoutMs?: number;
  /** Network retries with stripe-node's backoff (idempotency keys make POSTs safe); default 2. */
  maxNetworkRetries?: number;
}

export class StripeApiBaseError extends Error {
  override readonly name = "StripeApiBaseError";
}

/** `http://127.0.0.1:12111` → `{ host, port, protocol }`; rejects paths and other schemes. */
export function apiBaseToHost(apiBase: string): { host: string; port: number; protocol: "http" | "https" } {
  let url: URL;
  try {
    url = new URL(apiBase);
  } catch {
    throw new StripeApiBaseError(`STRIPE_API_BASE must be a URL like http://127.0.0.1:12111, got ${apiBase}`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:")
    throw new StripeApiBaseError(`STRIPE_API_BASE must use http or https, got ${url.protocol}`);
  if (url.pathname !== "/" && url.pathname !== "")
    throw new StripeApiBaseError(
      `STRIPE_API_BASE is the server's origin without a path (stripe-node adds /v1), got ${apiBase}`,
    );
  const protocol = url.protocol === "https:" ? "https" : "http";
  return {
    host: url.hostname.replace(/^\[|\]$/g, ""),
    port: url.port ? Number(url.port) : protocol === "https" ? 443 : 80,
    protocol,
  };
}

export function stripeClient(options: StripeClientOptions): Stripe {
  const base = options.apiBase?.trim();
  const target = base && base !== "https://api.stripe.com" ? apiBaseToHost(base) : undefined;
  return new Stripe(options.secretKey, {
    apiVersion: STRIPE_API_VERSION,
    timeout: options.timeoutMs ?? 20_000,
    maxNetworkRetries: options.maxNetworkRetries ?? 2,
    telemetry: false,
    appInfo: { name: "mindroom-cloud" },
    ...(target ? { host: target.host, port: target.port, protocol: target.protocol } : {}),
  });
}
