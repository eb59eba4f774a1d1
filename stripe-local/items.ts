/**
 * Subscription items: adding, swapping and removing them (with the proration
 * lines a change produces), the legacy `plan` mirror, and previews of the
 * invoice a change would bill.
 */
import type { Billing, SubscriptionChanges } from "./billing.ts";
import { invalidRequest } from "./errors.ts";
import { addMonth, newId, nowSeconds } from "./ids.ts";
import { buildInvoice, cycleDescription, type LineInput } from "./invoices.ts";
import type { Invoice, Plan, Price, Subscription, SubscriptionItem } from "./objects.ts";
import { must } from "./state.ts";

/** Item changes: `{id, price}` swaps a price, `{price}` adds an item, `{id, deleted}` removes one. */
export function applyItemChanges(
  billing: Billing,
  s: Subscription,
  changes: NonNullable<SubscriptionChanges["items"]>,
  now: number,
): LineInput[] {
  const lines: LineInput[] = [];
  const start = s.items.data[0]?.current_period_start ?? now;
  const end = periodEndOf(s);
  const remaining = end > start ? Math.max(0, end - now) / (end - start) : 0;
  changes.forEach((change, i) => {
    const param = `items[${i}]`;
    if (change.id !== undefined) {
      const item = s.items.data.find((it) => it.id === change.id);
      if (!item)
        throw invalidRequest(`No such subscription item: '${change.id}'`, `${param}[id]`, "resource_missing");
      if (change.deleted) {
        s.items.data = s.items.data.filter((it) => it !== item);
        return;
      }
      const oldAmount = item.price.unit_amount * item.quantity;
      if (change.price !== undefined && change.price !== item.price.id)
        setItemPrice(item, billing.price(change.price, `${param}[price]`));
      if (change.quantity !== undefined) item.quantity = change.quantity;
      const newAmount = item.price.unit_amount * item.quantity;
      if (newAmount !== oldAmount) {
        const product = billing.state.products[item.price.product]?.name ?? item.price.product;
        lines.push(
          {
            item,
            price: item.price,
            quantity: item.quantity,
            period: { start: now, end },
            proration: true,
            amount: -Math.round(oldAmount * remaining),
            description: `Unused time on ${product} after ${new Date(now * 1000).toISOString().slice(0, 10)}`,
          },
          {
            item,
            price: item.price,
            quantity: item.quantity,
            period: { start: now, end },
            proration: true,
            amount: Math.round(newAmount * remaining),
            description: `Remaining time on ${product} after ${new Date(now * 1000).toISOString().slice(0, 10)}`,
          },
        );
      }
      return;
    }
    if (change.price === undefined)
      throw invalidRequest(
        "Missing required param: items[0][price].",
        `${param}[price]`,
        "parameter_missing",
      );
    const price = billing.price(change.price, `${param}[price]`);
    if (s.items.data.some((it) => it.price.id === price.id))
      throw invalidRequest("Cannot add multiple subscription items with the same price.", `${param}[price]`);
    s.items.data.push(newItem(s.id, price, change.quantity ?? 1, { start, end }));
  });
  if (s.items.data.length === 0)
    throw invalidRequest("A subscription must have at least one active plan.", "items");
  s.items.total_count = s.items.data.length;
  return lines;
}

/**
 * `POST /v1/invoices/create_preview`: the invoice a change would produce,
 * stored nowhere. `always_invoice` previews the proration invoice billed now;
 * otherwise the next renewal, with proration lines unless `none`.
 */
export function previewInvoice(
  billing: Billing,
  id: string,
  changes: Pick<SubscriptionChanges, "items" | "prorationBehavior">,
): Invoice {
  const sub = must(billing.state.subscriptions, id, "subscription", "subscription");
  if (sub.status === "canceled" || sub.status === "incomplete_expired")
    throw invalidRequest("A preview is not available for a canceled subscription.", "subscription");
  const customer = must(billing.state.customers, sub.customer, "customer", "customer");
  const clone = structuredClone(sub);
  const now = nowSeconds();
  const proration = changes.items ? applyItemChanges(billing, clone, changes.items, now) : [];
  const behavior = changes.prorationBehavior ?? "create_prorations";
  const start = periodEndOf(clone);
  const next = { start, end: addMonth(start) };
  const cycle: LineInput[] = clone.items.data.map((item) => ({
    item,
    price: item.price,
    quantity: item.quantity,
    period: next,
    proration: false,
    amount: item.price.unit_amount * item.quantity,
    description: cycleDescription(
      billing.state.products[item.price.product]?.name ?? item.price.product,
      item.price,
      item.quantity,
    ),
  }));
  const lines =
    behavior === "always_invoice" ? proration : [...(behavior === "none" ? [] : proration), ...cycle];
  const invoice = buildInvoice({
    sub: clone,
    customer,
    reason: behavior === "always_invoice" ? "subscription_update" : "subscription_cycle",
    lines,
    period: behavior === "always_invoice" ? { start: now, end: now } : next,
    sequence: billing.state.invoiceSequence,
    baseUrl: billing.baseUrl(),
  });
  return {
    ...invoice,
    id: `upcoming_${invoice.id}`,
    status: "draft",
    number: null,
    hosted_invoice_url: null,
    next_payment_attempt: null,
    status_transitions: { ...invoice.status_transitions, finalized_at: null },
  };
}

/** A subscription item on `price`; `plan` is the legacy mirror of the price Stripe still returns. */
export function newItem(
  subscription: string,
  price: Price,
  quantity: number,
  period: { start: number; end: number },
): SubscriptionItem {
  const item: SubscriptionItem = {
    id: newId("si"),
    object: "subscription_item",
    billing_thresholds: null,
    created: nowSeconds(),
    current_period_end: period.end,
    current_period_start: period.start,
    current_trial: null,
    discounts: [],
    metadata: {},
    plan: planOf(price),
    price: structuredClone(price),
    quantity,
    subscription,
    tax_rates: [],
  };
  return item;
}

export function setItemPrice(item: SubscriptionItem, price: Price): void {
  item.price = structuredClone(price);
  item.plan = planOf(price);
}

export function planOf(price: Price): Plan {
  return {
    id: price.id,
    object: "plan",
    active: price.active,
    amount: price.unit_amount,
    amount_decimal: price.unit_amount_decimal,
    billing_scheme: "per_unit",
    created: price.created,
    currency: price.currency,
    interval: price.recurring.interval,
    interval_count: price.recurring.interval_count,
    livemode: false,
    metadata: { ...price.metadata },
    meter: null,
    nickname: price.nickname,
    product: price.product,
    tiers_mode: null,
    transform_usage: null,
    trial_period_days: null,
    usage_type: "licensed",
  };
}

/** The end of the current period (the latest across items; Stripe aligns them). */
export function periodEndOf(s: Subscription): number {
  return Math.max(...s.items.data.map((it) => it.current_period_end), s.trial_end ?? 0);
}
