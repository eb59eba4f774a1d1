/** Builders for the invoices a subscription produces (creation, cycles, prorations). */
import { newId, nowSeconds } from "./ids.ts";
import type {
  BillingReason,
  Customer,
  Invoice,
  InvoiceLine,
  Price,
  Subscription,
  SubscriptionItem,
} from "./objects.ts";

export interface LineInput {
  item: SubscriptionItem;
  price: Price;
  amount: number;
  quantity: number;
  period: { start: number; end: number };
  proration: boolean;
  description: string;
}

function money(cents: number): string {
  return `$${(cents / 100).toFixed(2)}`;
}

/** `1 × MindRoom Starter (at $49.00 / month)`, Stripe's wording for a recurring line. */
export function cycleDescription(productName: string, price: Price, quantity: number): string {
  return `${quantity} × ${productName} (at ${money(price.unit_amount)} / ${price.recurring.interval})`;
}

function line(invoiceId: string, sub: Subscription, input: LineInput): InvoiceLine {
  return {
    id: newId("il"),
    object: "line_item",
    amount: input.amount,
    currency: sub.currency,
    description: input.description,
    discount_amounts: [],
    discountable: !input.proration,
    discounts: [],
    invoice: invoiceId,
    livemode: false,
    metadata: {},
    parent: {
      type: "subscription_item_details",
      invoice_item_details: null,
      subscription_item_details: {
        invoice_item: null,
        proration: input.proration,
        proration_details: { credited_items: null },
        subscription: sub.id,
        subscription_item: input.item.id,
      },
    },
    period: input.period,
    pretax_credit_amounts: [],
    pricing: {
      price_details: { price: input.price.id, product: input.price.product },
      type: "price_details",
      unit_amount_decimal: input.price.unit_amount_decimal,
    },
    quantity: input.quantity,
    taxes: [],
  };
}

/** A finalized (open) invoice, not yet attempted; `number` comes from the account-wide sequence. */
export function buildInvoice(args: {
  sub: Subscription;
  customer: Customer;
  reason: BillingReason;
  lines: LineInput[];
  period: { start: number; end: number };
  sequence: number;
  baseUrl: string;
}): Invoice {
  const id = newId("in");
  const now = nowSeconds();
  const lines = args.lines.map((l) => line(id, args.sub, l));
  const total = lines.reduce((sum, l) => sum + l.amount, 0);
  const due = Math.max(0, total);
  return {
    id,
    object: "invoice",
    account_country: "US",
    account_name: "MindRoom Cloud (local)",
    amount_due: due,
    amount_overpaid: 0,
    amount_paid: 0,
    amount_remaining: due,
    amount_shipping: 0,
    attempt_count: 0,
    attempted: false,
    auto_advance: true,
    billing_reason: args.reason,
    collection_method: "charge_automatically",
    created: now,
    currency: args.sub.currency,
    customer: args.customer.id,
    customer_email: args.customer.email,
    customer_name: args.customer.name,
    default_payment_method: null,
    description: null,
    discounts: [],
    due_date: null,
    effective_at: now,
    ending_balance: 0,
    hosted_invoice_url: `${args.baseUrl}/invoices/${id}`,
    invoice_pdf: null,
    lines: {
      object: "list",
      data: lines,
      has_more: false,
      total_count: lines.length,
      url: `/v1/invoices/${id}/lines`,
    },
    livemode: false,
    metadata: {},
    next_payment_attempt: due > 0 ? now + 3600 : null,
    number: `${args.customer.invoice_prefix}-${String(args.sequence).padStart(4, "0")}`,
    parent: {
      type: "subscription_details",
      quote_details: null,
      subscription_details: { metadata: { ...args.sub.metadata }, subscription: args.sub.id },
    },
    period_end: args.period.end,
    period_start: args.period.start,
    post_payment_credit_notes_amount: 0,
    pre_payment_credit_notes_amount: 0,
    receipt_number: null,
    starting_balance: 0,
    statement_descriptor: null,
    status: "open",
    status_transitions: { finalized_at: now, marked_uncollectible_at: null, paid_at: null, voided_at: null },
    subtotal: total,
    subtotal_excluding_tax: total,
    total,
    total_discount_amounts: [],
    total_excluding_tax: total,
    total_taxes: [],
    webhooks_delivered_at: null,
  };
}

export function markPaid(invoice: Invoice): void {
  const now = nowSeconds();
  invoice.status = "paid";
  invoice.attempted = invoice.amount_due > 0 || invoice.attempted;
  if (invoice.amount_due > 0) invoice.attempt_count += 1;
  invoice.amount_paid = invoice.amount_due;
  invoice.amount_remaining = 0;
  invoice.next_payment_attempt = null;
  invoice.status_transitions.paid_at = now;
}

/** One failed attempt; `final` when Stripe has no retry left (next_payment_attempt null). */
export function markFailed(invoice: Invoice, final: boolean): void {
  invoice.attempted = true;
  invoice.attempt_count += 1;
  invoice.next_payment_attempt = final ? null : nowSeconds() + 3 * 86_400;
}
