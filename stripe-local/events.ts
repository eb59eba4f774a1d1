/**
 * Stripe Event objects and their signed webhook deliveries. The local API uses
 * these for every event it emits; tests that sign their own events (to replay,
 * reorder or forge them) use the same two functions.
 */
import Stripe from "stripe";
import { STRIPE_API_VERSION } from "../billing/stripeClient.ts";
import { newId, nowSeconds } from "./ids.ts";

export type StripeEvent = {
  id: string;
  object: "event";
  account?: string;
  api_version: string;
  context?: string;
  created: number;
  data: { object: Record<string, unknown>; previous_attributes?: Record<string, unknown> };
  livemode: false;
  pending_webhooks: number;
  request: { id: string | null; idempotency_key: string | null };
  type: string;
};

export interface EventInput {
  type: string;
  /** The object as it is after the change (a deep copy is taken). */
  object: object;
  /** The changed fields' values before the change (`customer.subscription.updated`). */
  previousAttributes?: Record<string, unknown>;
  /** Unix seconds; now by default. */
  created?: number;
  id?: string;
  request?: { id: string | null; idempotency_key: string | null };
}

export function buildEvent(input: EventInput): StripeEvent {
  return {
    id: input.id ?? newId("evt"),
    object: "event",
    api_version: STRIPE_API_VERSION,
    created: input.created ?? nowSeconds(),
    data: {
      object: structuredClone(input.object) as Record<string, unknown>,
      ...(input.previousAttributes ? { previous_attributes: structuredClone(input.previousAttributes) } : {}),
    },
    livemode: false,
    pending_webhooks: 0,
    request: input.request ?? { id: null, idempotency_key: null },
    type: input.type,
  };
}

export interface SignedDelivery {
  /** The exact bytes to POST (Stripe pretty-prints with two spaces). */
  body: string;
  headers: Record<string, string>;
}

/**
 * The body and headers Stripe would POST for `event` to an endpoint with
 * `secret`, signed at `timestamp` (unix seconds, now by default) with
 * stripe-node's own `generateTestHeaderString` (HMAC-SHA256 of `${t}.${body}`).
 */
export function signedDelivery(event: object, secret: string, timestamp = nowSeconds()): SignedDelivery {
  const body = JSON.stringify(event, null, 2);
  const signature = Stripe.webhooks.generateTestHeaderString({ payload: body, secret, timestamp });
  return {
    body,
    headers: {
      "content-type": "application/json; charset=utf-8",
      "stripe-signature": signature,
      "user-agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
      "cache-control": "no-cache",
      accept: "*/*; q=0.5, application/xml",
    },
  };
}

/** `customer.subscription.*` matches every `customer.subscription.` type, as Stripe's `type` filter does. */
export function eventTypeMatches(pattern: string, type: string): boolean {
  if (pattern === "*") return true;
  if (pattern.endsWith(".*")) return type.startsWith(pattern.slice(0, -1));
  return pattern === type;
}
