/**
 * `/_local/…`: controls for what Stripe drives by time or card outcomes, plus
 * reset and state dump. Not Stripe endpoints; they need the same secret key.
 * Documented in stripe-local/README.md and at `GET /_local`.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { z } from "zod";
import type { Billing } from "./billing.ts";
import { unrecognizedUrl } from "./errors.ts";
import { expand } from "./expand.ts";
import { LIFECYCLE_CONTROLS, type LifecycleControl, runControl } from "./lifecycle.ts";
import { parseForm, parseParams } from "./params.ts";
import { completeCheckout } from "./sessions.ts";
import type { StateData } from "./state.ts";
import type { WebhookSender } from "./webhookSender.ts";

interface LocalRequest {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  body: string;
  billing: Billing;
  sender: WebhookSender;
  reset: () => void;
  persist: () => void;
  state: () => StateData;
}

export const LOCAL_CONTROLS_HELP = {
  "GET /_local": "this list",
  "GET /_local/state": "the whole state (objects, events, delivery status)",
  "POST /_local/reset":
    "forget every customer, subscription, invoice, session and event (catalog and webhook endpoints stay)",
  "POST /_local/subscriptions/:id/payment_failed":
    "the renewal (or the open invoice's next attempt) fails: invoice.payment_failed; active → past_due",
  "POST /_local/subscriptions/:id/retries_exhausted":
    "retries give up: final invoice.payment_failed; past_due → unpaid (outcome=canceled: customer.subscription.deleted)",
  "POST /_local/subscriptions/:id/payment_succeeded":
    "the open invoice is paid (or a renewal is): invoice.paid; past_due/unpaid/paused → active",
  "POST /_local/subscriptions/:id/period_end":
    "the period ends: cancel_at_period_end → canceled + customer.subscription.deleted; trialing → trial_end; else a paid renewal invoice",
  "POST /_local/subscriptions/:id/trial_end":
    "the trial ends: with a payment method → active + invoice.paid; without (payment_method=missing) → trial_settings decide (pause → paused + customer.subscription.paused)",
  "POST /_local/checkout/sessions/:id/complete":
    "complete a checkout as the hosted page would (email, name, card_number); returns {session, redirect}",
  "POST /_local/webhooks/deliver": "send every pending delivery now (for autoDeliver=false)",
  "GET /_local/webhooks/idle": "wait (up to 60 s) until no delivery is in flight or scheduled",
  "GET /_local/webhooks/attempts": "every delivery attempt: event, endpoint, status, error",
} as const;

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body, null, 2);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

const controlParams = z.strictObject({
  outcome: z.enum(["unpaid", "canceled"]).optional(),
  payment_method: z.enum(["present", "missing"]).optional(),
  missing_payment_method: z.enum(["cancel", "create_invoice", "pause"]).optional(),
  expand: z.array(z.string()).optional(),
});

export async function handleLocalControl(r: LocalRequest): Promise<void> {
  const { req, res, url } = r;
  const method = req.method ?? "GET";
  const path = url.pathname.replace(/\/$/, "");
  if (method === "GET" && path === "/_local") return json(res, 200, LOCAL_CONTROLS_HELP);
  if (method === "GET" && path === "/_local/state") return json(res, 200, r.state());
  if (method === "POST" && path === "/_local/reset") {
    r.reset();
    return json(res, 200, { reset: true });
  }
  const control = /^\/_local\/subscriptions\/([^/]+)\/([a-z_]+)$/.exec(path);
  if (
    method === "POST" &&
    control?.[1] &&
    control[2] &&
    (LIFECYCLE_CONTROLS as readonly string[]).includes(control[2])
  ) {
    const p = parseParams(controlParams, { ...parseForm(url.search.slice(1)), ...parseForm(r.body) });
    const sub = runControl(r.billing, control[2] as LifecycleControl, control[1], {
      ...(p.outcome ? { outcome: p.outcome } : {}),
      ...(p.payment_method ? { paymentMethod: p.payment_method } : {}),
      ...(p.missing_payment_method ? { missingPaymentMethod: p.missing_payment_method } : {}),
    });
    r.persist();
    return json(res, 200, expand(r.billing.state, sub, p.expand));
  }
  const complete = /^\/_local\/checkout\/sessions\/([^/]+)\/complete$/.exec(path);
  if (method === "POST" && complete?.[1]) {
    const form = parseForm(r.body);
    const text = (k: string) => (typeof form[k] === "string" ? (form[k] as string) : "");
    const result = completeCheckout(r.billing, complete[1], {
      email: text("email"),
      name: text("name"),
      cardNumber: text("card_number") || "4242424242424242",
    });
    r.persist();
    return json(res, 200, result);
  }
  if (method === "POST" && path === "/_local/webhooks/deliver")
    return json(res, 200, { started: r.sender.deliverPending() });
  if (method === "GET" && path === "/_local/webhooks/idle") {
    await Promise.race([r.sender.idle(), new Promise((resolve) => setTimeout(resolve, 60_000).unref())]);
    return json(res, 200, { idle: true });
  }
  if (method === "GET" && path === "/_local/webhooks/attempts") return json(res, 200, r.sender.attempts);
  throw unrecognizedUrl(method, path);
}
