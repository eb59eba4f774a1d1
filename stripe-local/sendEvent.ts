/**
 * `send-event`: builds one event from the local API's current objects and
 * POSTs it, signed, straight to a webhook, bypassing the local API's own
 * delivery (to replay, duplicate or reorder by hand).
 */
import { buildEvent, signedDelivery } from "./events.ts";

export class SendEventError extends Error {
  override readonly name = "SendEventError";
}

export interface SendEventOptions {
  type: string;
  subscription: string;
  webhook: string;
  secret: string;
  stripeUrl: string;
  secretKey: string;
  /** JSON for `data.previous_attributes`. */
  previousAttributes?: Record<string, unknown>;
}

type Json = Record<string, unknown>;

/**
 * Raw JSON from the API, as Stripe would put it in an event (stripe-node's parsed
 * objects turn `*_decimal` fields into Decimal values that JSON cannot hold).
 */
function apiGetter(stripeUrl: string, secretKey: string): (path: string) => Promise<Json> {
  return async (path) => {
    const response = await fetch(`${stripeUrl.replace(/\/$/, "")}${path}`, {
      headers: { authorization: `Bearer ${secretKey}` },
      signal: AbortSignal.timeout(20_000),
    });
    const body = (await response.json()) as Json & { error?: { message?: string } };
    if (!response.ok) throw new SendEventError(`GET ${path}: ${body.error?.message ?? response.status}`);
    return body;
  };
}

/** The object an event of `type` carries, re-read from the local API. */
async function objectFor(
  get: (path: string) => Promise<Json>,
  type: string,
  subscriptionId: string,
): Promise<Json> {
  const sub = await get(`/v1/subscriptions/${encodeURIComponent(subscriptionId)}`);
  if (type.startsWith("customer.subscription.")) return sub;
  if (type.startsWith("invoice.")) {
    if (typeof sub.latest_invoice !== "string")
      throw new SendEventError(`subscription ${subscriptionId} has no invoice for ${type}`);
    return get(`/v1/invoices/${sub.latest_invoice}`);
  }
  if (type.startsWith("checkout.session.")) {
    const sessions = await get(
      `/v1/checkout/sessions?subscription=${encodeURIComponent(subscriptionId)}&limit=1`,
    );
    const session = (sessions.data as Json[] | undefined)?.[0];
    if (!session) throw new SendEventError(`no checkout session created subscription ${subscriptionId}`);
    return session;
  }
  if (type.startsWith("customer.")) return get(`/v1/customers/${String(sub.customer)}`);
  throw new SendEventError(
    `send-event knows customer.subscription.*, invoice.*, checkout.session.* and customer.* types, not ${type}`,
  );
}

export async function sendEvent(
  options: SendEventOptions,
): Promise<{ event: string; status: number; body: string }> {
  const get = apiGetter(options.stripeUrl, options.secretKey);
  const object = await objectFor(get, options.type, options.subscription);
  const event = buildEvent({
    type: options.type,
    object,
    ...(options.previousAttributes ? { previousAttributes: options.previousAttributes } : {}),
  });
  const { body, headers } = signedDelivery(event, options.secret);
  const response = await fetch(options.webhook, {
    method: "POST",
    headers,
    body,
    signal: AbortSignal.timeout(30_000),
  });
  return { event: event.id, status: response.status, body: (await response.text()).slice(0, 500) };
}
