/**
 * What Stripe does on its own, driven by time and card outcomes, as explicit
 * local controls (`POST /_local/subscriptions/:id/<control>`): a renewal
 * payment failing, retries running out, a payment succeeding, a period ending,
 * a trial ending. Each emits the events Stripe emits for it.
 */
import type { Billing } from "./billing.ts";
import { invalidRequest } from "./errors.ts";
import { nowSeconds } from "./ids.ts";
import { periodEndOf } from "./items.ts";
import type { MissingPaymentMethodBehavior, Subscription } from "./objects.ts";
import { must } from "./state.ts";

export const LIFECYCLE_CONTROLS = [
  "payment_failed",
  "retries_exhausted",
  "payment_succeeded",
  "period_end",
  "trial_end",
] as const;
export type LifecycleControl = (typeof LIFECYCLE_CONTROLS)[number];

export interface ControlOptions {
  /** retries_exhausted: what the account's dunning settings do at the end (Stripe: unpaid or canceled). */
  outcome?: "unpaid" | "canceled";
  /** trial_end: whether the customer has a payment method (default: whether one is on file). */
  paymentMethod?: "present" | "missing";
  /** trial_end without a payment method: overrides the subscription's `trial_settings`. */
  missingPaymentMethod?: MissingPaymentMethodBehavior;
}

function requireLive(sub: Subscription, control: string): void {
  if (sub.status === "canceled" || sub.status === "incomplete_expired")
    throw invalidRequest(`${control}: subscription ${sub.id} is ${sub.status}; nothing more happens to it`);
}

function hasPaymentMethod(billing: Billing, sub: Subscription): boolean {
  if (sub.default_payment_method) return true;
  return Boolean(billing.state.customers[sub.customer]?.invoice_settings.default_payment_method);
}

/** The renewal (or the open invoice's next attempt) fails: `invoice.payment_failed`, status `past_due`. */
function paymentFailed(billing: Billing, sub: Subscription): void {
  requireLive(sub, "payment_failed");
  if (sub.status === "paused")
    throw invalidRequest("payment_failed: a paused subscription generates no invoices");
  const invoice = billing.openInvoice(sub) ?? billing.renew(sub.id);
  billing.failInvoice(invoice, false);
  if (sub.status === "active" || sub.status === "trialing") billing.setStatus(sub.id, "past_due");
}

/** Smart Retries give up: a final `invoice.payment_failed`, then `unpaid` (or canceled, per settings). */
function retriesExhausted(billing: Billing, sub: Subscription, options: ControlOptions): void {
  requireLive(sub, "retries_exhausted");
  const invoice = billing.openInvoice(sub);
  if (!invoice || sub.status !== "past_due")
    throw invalidRequest(
      `retries_exhausted: subscription ${sub.id} is ${sub.status} with no failed invoice; send payment_failed first`,
    );
  billing.failInvoice(invoice, true);
  if (options.outcome === "canceled") billing.cancelNow(sub.id, { reason: "payment_failed" });
  else billing.setStatus(sub.id, "unpaid");
}

/** The open invoice is paid (card updated, retry succeeded): `invoice.paid`, status back to `active`. */
function paymentSucceeded(billing: Billing, sub: Subscription): void {
  requireLive(sub, "payment_succeeded");
  const invoice = billing.openInvoice(sub) ?? billing.renew(sub.id);
  billing.payInvoice(invoice);
  if (sub.status !== "active" && sub.status !== "trialing") billing.setStatus(sub.id, "active");
}

/** The current period ends: cancel (with `cancel_at_period_end`), end the trial, or renew. */
function periodEnd(billing: Billing, sub: Subscription, options: ControlOptions): void {
  requireLive(sub, "period_end");
  if (sub.cancel_at_period_end) {
    billing.cancelNow(sub.id, {
      reason: "cancellation_requested",
      at: Math.min(periodEndOf(sub), nowSeconds()),
    });
    return;
  }
  if (sub.status === "trialing") {
    trialEnd(billing, sub, options);
    return;
  }
  if (sub.status === "paused")
    throw invalidRequest("period_end: a paused subscription has no periods; resume it");
  const invoice = billing.renew(sub.id);
  // An unpaid subscription keeps accruing invoices that are not attempted; a past-due one fails again.
  if (sub.status === "unpaid") return;
  if (sub.status === "past_due") billing.failInvoice(invoice, false);
  else billing.payInvoice(invoice);
}

/**
 * The trial ends. With a payment method: the first real invoice is paid and the
 * subscription becomes `active`. Without one: `trial_settings.end_behavior.
 * missing_payment_method` decides (pause → `paused` + `customer.subscription.paused`,
 * cancel → canceled, create_invoice → an open invoice and `past_due`).
 */
function trialEnd(billing: Billing, sub: Subscription, options: ControlOptions): void {
  if (sub.status !== "trialing")
    throw invalidRequest(`trial_end: subscription ${sub.id} is ${sub.status}, not trialing`);
  const now = nowSeconds();
  billing.changeSubscription(sub.id, (s) => {
    s.trial_end = Math.min(s.trial_end ?? now, now);
    for (const it of s.items.data) it.current_period_end = s.trial_end;
  });
  const present = options.paymentMethod
    ? options.paymentMethod === "present"
    : hasPaymentMethod(billing, sub);
  if (present) {
    const invoice = billing.renew(sub.id);
    billing.payInvoice(invoice);
    billing.setStatus(sub.id, "active");
    return;
  }
  const behavior = options.missingPaymentMethod ?? sub.trial_settings.end_behavior.missing_payment_method;
  if (behavior === "pause") billing.setStatus(sub.id, "paused");
  else if (behavior === "cancel") billing.cancelNow(sub.id, { reason: "cancellation_requested" });
  else {
    const invoice = billing.renew(sub.id);
    billing.failInvoice(invoice, false);
    billing.setStatus(sub.id, "past_due");
  }
}

/** `POST /v1/subscriptions/:id/resume`: a paused subscription starts a new paid period. */
export function resume(billing: Billing, id: string): Subscription {
  const sub = must(billing.state.subscriptions, id, "subscription");
  if (sub.status !== "paused") throw invalidRequest("Only a paused subscription can be resumed.", undefined);
  const now = nowSeconds();
  billing.changeSubscription(id, (s) => {
    for (const it of s.items.data) it.current_period_end = now;
  });
  const invoice = billing.renew(id);
  billing.payInvoice(invoice);
  return billing.setStatus(id, "active");
}

export function runControl(
  billing: Billing,
  control: LifecycleControl,
  id: string,
  options: ControlOptions,
): Subscription {
  const sub = must(billing.state.subscriptions, id, "subscription");
  switch (control) {
    case "payment_failed":
      paymentFailed(billing, sub);
      break;
    case "retries_exhausted":
      retriesExhausted(billing, sub, options);
      break;
    case "payment_succeeded":
      paymentSucceeded(billing, sub);
      break;
    case "period_end":
      periodEnd(billing, sub, options);
      break;
    case "trial_end":
      trialEnd(billing, sub, options);
      break;
  }
  return must(billing.state.subscriptions, id, "subscription");
}
