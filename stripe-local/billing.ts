/**
 * What Stripe does when customers and subscriptions change: the state
 * transitions, the invoices they produce, and the events Stripe emits for
 * each, in Stripe's order. The HTTP layer, the hosted pages and the lifecycle
 * controls all change state through here, so every change emits its events.
 */
import type { SubscriptionStatus } from "../database/subscriptions.ts";
import { previousAttributes } from "./diff.ts";
import { invalidRequest } from "./errors.ts";
import type { EventInput } from "./events.ts";
import { addMonth, DAY, newId, nowSeconds } from "./ids.ts";
import { buildInvoice, cycleDescription, type LineInput, markFailed, markPaid } from "./invoices.ts";
import { applyItemChanges, newItem, periodEndOf } from "./items.ts";
import {
  type BillingReason,
  type Customer,
  type Deleted,
  type Invoice,
  type Metadata,
  type MissingPaymentMethodBehavior,
  newCustomer,
  type PaymentMethod,
  type Price,
  type Subscription,
  type SubscriptionItem,
} from "./objects.ts";
import { must, type StateData } from "./state.ts";

export type ProrationBehavior = "always_invoice" | "create_prorations" | "none";

export interface NewSubscription {
  customer: string;
  items: { price: string; quantity?: number }[];
  metadata?: Metadata;
  trialPeriodDays?: number;
  trialEnd?: number;
  missingPaymentMethod?: MissingPaymentMethodBehavior;
  defaultPaymentMethod?: string | null;
  /** `default_incomplete`: the first invoice stays open and the subscription `incomplete`. */
  paymentBehavior?:
    | "allow_incomplete"
    | "default_incomplete"
    | "error_if_incomplete"
    | "pending_if_incomplete";
  cancelAtPeriodEnd?: boolean;
  description?: string | null;
}

export interface SubscriptionChanges {
  items?: { id?: string; price?: string; quantity?: number; deleted?: boolean }[];
  prorationBehavior?: ProrationBehavior;
  cancelAtPeriodEnd?: boolean;
  metadata?: Metadata | "";
  defaultPaymentMethod?: string | null;
  description?: string | null;
  cancellationDetails?: { comment?: string; feedback?: string };
}

/** Merges Stripe-style: `metadata=` clears, `metadata[k]=` (empty) unsets k. */
export function mergeMetadata(current: Metadata, update: Metadata | "" | undefined): Metadata {
  if (update === undefined) return current;
  if (update === "") return {};
  const out = { ...current };
  for (const [k, v] of Object.entries(update)) {
    if (v === "") delete out[k];
    else out[k] = v;
  }
  return out;
}

export class Billing {
  readonly state: StateData;
  readonly baseUrl: () => string;
  private readonly emit: (input: EventInput) => void;

  constructor(state: StateData, emit: (input: EventInput) => void, baseUrl: () => string) {
    this.state = state;
    this.emit = emit;
    this.baseUrl = baseUrl;
  }

  /** Records an event (and queues its deliveries). */
  emitEvent(input: EventInput): void {
    this.emit(input);
  }

  // ── customers ────────────────────────────────────────────────────────────

  createCustomer(fields: Parameters<typeof newCustomer>[0]): Customer {
    const customer = newCustomer(fields);
    this.state.customers[customer.id] = customer;
    this.emit({ type: "customer.created", object: customer });
    return customer;
  }

  updateCustomer(id: string, change: (c: Customer) => void): Customer {
    const customer = must(this.state.customers, id, "customer");
    const before = structuredClone(customer);
    change(customer);
    const previous = previousAttributes(before, customer);
    if (Object.keys(previous).length > 0)
      this.emit({ type: "customer.updated", object: customer, previousAttributes: previous });
    return customer;
  }

  /** Deleting a customer cancels its subscriptions at once, as Stripe does. */
  deleteCustomer(id: string): Deleted {
    const customer = must(this.state.customers, id, "customer");
    for (const sub of Object.values(this.state.subscriptions)) {
      if (sub.customer === id && sub.status !== "canceled" && sub.status !== "incomplete_expired")
        this.cancelNow(sub.id, { reason: "cancellation_requested" });
    }
    delete this.state.customers[id];
    this.state.deletedCustomers.push(id);
    this.emit({ type: "customer.deleted", object: customer });
    return { id, object: "customer", deleted: true };
  }

  /** A test card saved as the customer's default payment method (what Checkout does). */
  attachCard(customerId: string, card: { last4: string; brand: string; name: string | null }): PaymentMethod {
    const customer = must(this.state.customers, customerId, "customer");
    const pm: PaymentMethod = {
      id: newId("pm"),
      object: "payment_method",
      billing_details: { address: null, email: customer.email, name: card.name, phone: null },
      card: {
        brand: card.brand,
        country: "US",
        exp_month: 12,
        exp_year: 2034,
        funding: "credit",
        last4: card.last4,
      },
      created: nowSeconds(),
      customer: customerId,
      livemode: false,
      metadata: {},
      type: "card",
    };
    this.state.paymentMethods[pm.id] = pm;
    this.emit({ type: "payment_method.attached", object: pm });
    this.updateCustomer(customerId, (c) => {
      c.invoice_settings.default_payment_method = pm.id;
    });
    return pm;
  }

  price(id: string, param: string): Price {
    const price = must(this.state.prices, id, "price", param);
    if (!price.active) throw invalidRequest(`The price specified is inactive: ${id}`, param);
    return price;
  }

  // ── subscriptions ────────────────────────────────────────────────────────

  createSubscription(input: NewSubscription): Subscription {
    const customer = must(this.state.customers, input.customer, "customer", "customer");
    if (input.items.length === 0)
      throw invalidRequest("Missing required param: items.", "items", "parameter_missing");
    const now = nowSeconds();
    const trialEnd =
      input.trialEnd ?? (input.trialPeriodDays !== undefined ? now + input.trialPeriodDays * DAY : undefined);
    const periodEnd = trialEnd ?? addMonth(now);
    const id = newId("sub");
    const seen = new Set<string>();
    const items = input.items.map((it, i): SubscriptionItem => {
      const price = this.price(it.price, `items[${i}][price]`);
      if (seen.has(price.id))
        throw invalidRequest(
          "Cannot add multiple subscription items with the same price.",
          `items[${i}][price]`,
        );
      seen.add(price.id);
      return newItem(id, price, it.quantity ?? 1, { start: now, end: periodEnd });
    });
    const sub: Subscription = {
      id,
      object: "subscription",
      application: null,
      application_fee_percent: null,
      automatic_tax: { disabled_reason: null, enabled: false, liability: null },
      billing_cycle_anchor: periodEnd,
      billing_cycle_anchor_config: null,
      billing_thresholds: null,
      cancel_at: input.cancelAtPeriodEnd ? periodEnd : null,
      cancel_at_period_end: input.cancelAtPeriodEnd ?? false,
      canceled_at: input.cancelAtPeriodEnd ? now : null,
      cancellation_details: {
        comment: null,
        feedback: null,
        reason: input.cancelAtPeriodEnd ? "cancellation_requested" : null,
      },
      collection_method: "charge_automatically",
      created: now,
      currency: items[0]?.price.currency ?? "usd",
      customer: customer.id,
      customer_account: null,
      days_until_due: null,
      default_payment_method: input.defaultPaymentMethod ?? null,
      default_source: null,
      default_tax_rates: [],
      description: input.description ?? null,
      discounts: [],
      ended_at: null,
      invoice_settings: { account_tax_ids: null, issuer: { type: "self" } },
      items: {
        object: "list",
        data: items,
        has_more: false,
        total_count: items.length,
        url: `/v1/subscription_items?subscription=${id}`,
      },
      latest_invoice: null,
      livemode: false,
      metadata: input.metadata ?? {},
      next_pending_invoice_item_invoice: null,
      on_behalf_of: null,
      pause_collection: null,
      payment_settings: {
        payment_method_options: null,
        payment_method_types: null,
        save_default_payment_method: "off",
      },
      pending_invoice_item_interval: null,
      pending_setup_intent: null,
      pending_update: null,
      schedule: null,
      start_date: now,
      status: "incomplete",
      test_clock: null,
      transfer_data: null,
      trial_end: trialEnd ?? null,
      trial_settings: {
        end_behavior: { missing_payment_method: input.missingPaymentMethod ?? "create_invoice" },
      },
      trial_start: trialEnd !== undefined ? now : null,
    };
    // The first invoice: a $0 one for a trial, the first period otherwise.
    sub.billing_cycle_anchor = periodEnd;
    const invoice = this.newInvoice(
      sub,
      "subscription_create",
      { start: now, end: periodEnd },
      trialEnd !== undefined,
    );
    const immediate = input.paymentBehavior !== "default_incomplete" || invoice.amount_due === 0;
    if (immediate) {
      markPaid(invoice);
      sub.status = trialEnd !== undefined ? "trialing" : "active";
    }
    this.state.subscriptions[id] = sub;
    this.emit({ type: "customer.subscription.created", object: sub });
    this.emitInvoiceOpened(invoice);
    if (immediate) this.emitInvoicePaid(invoice);
    return sub;
  }

  /**
   * Applies `change` to a subscription and emits `customer.subscription.updated`
   * with `previous_attributes` (and `.paused`/`.resumed` when it enters or
   * leaves `paused`), only if something changed.
   */
  changeSubscription(id: string, change: (s: Subscription) => void): Subscription {
    const sub = must(this.state.subscriptions, id, "subscription");
    const before = structuredClone(sub);
    change(sub);
    const previous = previousAttributes(before, sub);
    if (Object.keys(previous).length === 0) return sub;
    this.emit({ type: "customer.subscription.updated", object: sub, previousAttributes: previous });
    if (sub.status === "paused" && before.status !== "paused")
      this.emit({ type: "customer.subscription.paused", object: sub });
    if (before.status === "paused" && sub.status !== "paused")
      this.emit({ type: "customer.subscription.resumed", object: sub });
    return sub;
  }

  updateSubscription(id: string, changes: SubscriptionChanges): Subscription {
    const sub = must(this.state.subscriptions, id, "subscription");
    if (sub.status === "canceled" || sub.status === "incomplete_expired") {
      const allowed = changes.metadata !== undefined || changes.cancellationDetails !== undefined;
      const other = Object.entries(changes).some(
        ([k, v]) => v !== undefined && k !== "metadata" && k !== "cancellationDetails",
      );
      if (other || !allowed)
        throw invalidRequest(
          "A canceled subscription can only update its cancellation_details and metadata.",
        );
    }
    const now = nowSeconds();
    let prorationInvoice: Invoice | undefined;
    const result = this.changeSubscription(id, (s) => {
      if (changes.items) {
        const proration = applyItemChanges(this, s, changes.items, now);
        const total = proration.reduce((sum, l) => sum + l.amount, 0);
        // always_invoice bills the difference now; create_prorations leaves it for the next invoice.
        if (changes.prorationBehavior === "always_invoice" && total !== 0) {
          prorationInvoice = this.newInvoice(
            s,
            "subscription_update",
            { start: now, end: now },
            false,
            proration,
          );
          markPaid(prorationInvoice);
        }
      }
      if (changes.cancelAtPeriodEnd !== undefined && changes.cancelAtPeriodEnd !== s.cancel_at_period_end) {
        s.cancel_at_period_end = changes.cancelAtPeriodEnd;
        s.cancel_at = changes.cancelAtPeriodEnd ? periodEndOf(s) : null;
        s.canceled_at = changes.cancelAtPeriodEnd ? now : null;
        s.cancellation_details.reason = changes.cancelAtPeriodEnd ? "cancellation_requested" : null;
      }
      if (changes.cancellationDetails) {
        if (changes.cancellationDetails.comment !== undefined)
          s.cancellation_details.comment = changes.cancellationDetails.comment || null;
        if (changes.cancellationDetails.feedback !== undefined)
          s.cancellation_details.feedback = changes.cancellationDetails.feedback || null;
      }
      s.metadata = mergeMetadata(s.metadata, changes.metadata);
      if (changes.defaultPaymentMethod !== undefined) s.default_payment_method = changes.defaultPaymentMethod;
      if (changes.description !== undefined) s.description = changes.description;
    });
    if (prorationInvoice) {
      this.emitInvoiceOpened(prorationInvoice);
      this.emitInvoicePaid(prorationInvoice);
    }
    return result;
  }

  /** `DELETE /v1/subscriptions/:id`, and the end of a period with `cancel_at_period_end`. */
  cancelNow(
    id: string,
    details: { reason: string; comment?: string; feedback?: string; at?: number },
  ): Subscription {
    const sub = must(this.state.subscriptions, id, "subscription");
    if (sub.status === "canceled" || sub.status === "incomplete_expired")
      throw invalidRequest(
        `This subscription has already been canceled (${id}).`,
        undefined,
        "resource_missing",
      );
    const at = details.at ?? nowSeconds();
    sub.status = "canceled";
    sub.ended_at = at;
    sub.canceled_at = sub.canceled_at ?? at;
    sub.cancel_at = sub.cancel_at_period_end ? sub.cancel_at : null;
    sub.cancellation_details = {
      comment: details.comment ?? sub.cancellation_details.comment,
      feedback: details.feedback ?? sub.cancellation_details.feedback,
      reason: details.reason,
    };
    this.emit({ type: "customer.subscription.deleted", object: sub });
    return sub;
  }

  // ── invoices ─────────────────────────────────────────────────────────────

  /** An open invoice for the subscription's items over `period` (trial: $0), made its latest invoice. */
  newInvoice(
    sub: Subscription,
    reason: BillingReason,
    period: { start: number; end: number },
    trial: boolean,
    lines?: LineInput[],
  ): Invoice {
    const customer = must(this.state.customers, sub.customer, "customer", "customer");
    const invoiceLines =
      lines ??
      sub.items.data.map((item) => {
        const product = this.state.products[item.price.product]?.name ?? item.price.product;
        return {
          item,
          price: item.price,
          quantity: item.quantity,
          period,
          proration: false,
          amount: trial ? 0 : item.price.unit_amount * item.quantity,
          description: trial
            ? `Trial period for ${product}`
            : cycleDescription(product, item.price, item.quantity),
        };
      });
    const invoice = buildInvoice({
      sub,
      customer,
      reason,
      lines: invoiceLines,
      period,
      sequence: this.state.invoiceSequence++,
      baseUrl: this.baseUrl(),
    });
    this.state.invoices[invoice.id] = invoice;
    sub.latest_invoice = invoice.id;
    return invoice;
  }

  emitInvoiceOpened(invoice: Invoice): void {
    this.emit({ type: "invoice.created", object: { ...invoice, status: "draft" } });
    this.emit({ type: "invoice.finalized", object: { ...invoice, status: "open" } });
  }

  emitInvoicePaid(invoice: Invoice): void {
    this.emit({ type: "invoice.paid", object: invoice });
    this.emit({ type: "invoice.payment_succeeded", object: invoice });
  }

  payInvoice(invoice: Invoice): void {
    markPaid(invoice);
    this.emitInvoicePaid(invoice);
  }

  failInvoice(invoice: Invoice, final: boolean): void {
    markFailed(invoice, final);
    this.emit({ type: "invoice.payment_failed", object: invoice });
  }

  /** The subscription's latest invoice if it is still open. */
  openInvoice(sub: Subscription): Invoice | undefined {
    const invoice = sub.latest_invoice ? this.state.invoices[sub.latest_invoice] : undefined;
    return invoice?.status === "open" ? invoice : undefined;
  }

  /** Moves every item to the next monthly period and opens its invoice. */
  renew(id: string): Invoice {
    let invoice: Invoice | undefined;
    this.changeSubscription(id, (s) => {
      const start = periodEndOf(s);
      const end = addMonth(start);
      for (const it of s.items.data) {
        it.current_period_start = start;
        it.current_period_end = end;
      }
      s.billing_cycle_anchor = start;
      invoice = this.newInvoice(s, "subscription_cycle", { start, end }, false);
    });
    if (!invoice) throw new Error("renewal produced no invoice");
    this.emitInvoiceOpened(invoice);
    return invoice;
  }

  setStatus(id: string, status: SubscriptionStatus, extra?: (s: Subscription) => void): Subscription {
    return this.changeSubscription(id, (s) => {
      s.status = status;
      extra?.(s);
    });
  }
}
