/**
 * Renewal day: Stripe sends every customer an invoice and a subscription event when their period
 * rolls over, and neither changes what their tenant should be. An event is a renewal only when
 * its signed payload shows nothing but the period moving on: a `customer.subscription.updated`
 * whose `previous_attributes` hold period fields alone (on the subscription or, since API
 * 2025-03-31.basil, on its items), or an invoice of the cycle (`billing_reason:
 * subscription_cycle`) that was created, finalized or paid. Ingest then skips the reconcile when
 * the customer's tenant is settled on the spec it last applied (database/instances.ts
 * settledCustomers); any other change, a failed payment or a tenant not settled goes the usual
 * way, and the sweep stays the backstop. Pure.
 */
import { isDeepStrictEqual } from "node:util";
import type { IngestedEvent } from "./stripeWebhook.ts";

/**
 * What a renewal changes on a subscription or its items. The billing cycle anchor is among them:
 * it only ever moves the dates on which periods end (the local API moves it on every renewal).
 */
const PERIOD_FIELDS = new Set([
  "current_period_start",
  "current_period_end",
  "latest_invoice",
  "billing_cycle_anchor",
]);
/** Invoice events of a cycle that leave the tenant as it is (a failed payment is not one). */
const CYCLE_INVOICE_TYPES = new Set([
  "invoice.created",
  "invoice.finalized",
  "invoice.paid",
  "invoice.payment_succeeded",
  "invoice.upcoming",
]);

export type Renewal =
  /** The subscription's new period end, when the payload gives one (moves the projection forward). */
  | { readonly kind: "subscription"; readonly subscriptionId: string; readonly periodEnd: Date | null }
  | { readonly kind: "invoice" };

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/** The renewal `event` is, or undefined when it may change the tenant. */
export function renewalOf(event: IngestedEvent): Renewal | undefined {
  const object = event.data.object;
  if (CYCLE_INVOICE_TYPES.has(event.type))
    return object.billing_reason === "subscription_cycle" ? { kind: "invoice" } : undefined;
  if (event.type !== "customer.subscription.updated" || typeof object.id !== "string") return undefined;
  if (object.status !== "active") return undefined;
  const previous = event.data.previous_attributes;
  if (!isObject(previous) || Object.keys(previous).length === 0) return undefined;
  for (const [field, before] of Object.entries(previous)) {
    if (PERIOD_FIELDS.has(field)) continue;
    if (field === "items" && itemsDifferOnlyInPeriod(before, object.items)) continue;
    return undefined;
  }
  return { kind: "subscription", subscriptionId: object.id, periodEnd: periodEnd(object) };
}

/** Both item lists equal once every period field is left out (same prices, quantities, ids). */
function itemsDifferOnlyInPeriod(before: unknown, after: unknown): boolean {
  const strip = (list: unknown): unknown => {
    if (!isObject(list) || !Array.isArray(list.data)) return undefined;
    return list.data.map((item) =>
      isObject(item) ? Object.fromEntries(Object.entries(item).filter(([k]) => !PERIOD_FIELDS.has(k))) : item,
    );
  };
  const a = strip(before);
  return a !== undefined && isDeepStrictEqual(a, strip(after));
}

function periodEnd(subscription: Json): Date | null {
  const items = subscription.items;
  const item = isObject(items) && Array.isArray(items.data) ? items.data[0] : undefined;
  const seconds = (isObject(item) ? item.current_period_end : undefined) ?? subscription.current_period_end;
  return typeof seconds === "number" && Number.isInteger(seconds) && seconds > 0
    ? new Date(seconds * 1000)
    : null;
}
