/**
 * Checkout Sessions (subscription mode) and Billing Portal sessions: creating
 * them through the API, and what happens when the customer completes the
 * hosted checkout page or acts on the hosted portal page.
 */
import type { Billing } from "./billing.ts";
import { cardDeclined, invalidRequest } from "./errors.ts";
import { DAY, newId, nowSeconds } from "./ids.ts";
import type {
  CheckoutLineItem,
  CheckoutPlan,
  CheckoutSession,
  Metadata,
  MissingPaymentMethodBehavior,
  PortalSession,
  Subscription,
} from "./objects.ts";
import { must } from "./state.ts";

export interface NewCheckoutSession {
  lineItems: { price: string; quantity?: number }[];
  customer?: string;
  customerEmail?: string;
  clientReferenceId?: string;
  successUrl?: string;
  cancelUrl?: string;
  metadata?: Metadata;
  trialPeriodDays?: number;
  subscriptionMetadata?: Metadata;
  missingPaymentMethod?: MissingPaymentMethodBehavior;
  paymentMethodCollection?: "always" | "if_required";
}

export function createCheckoutSession(billing: Billing, input: NewCheckoutSession): CheckoutSession {
  if (input.customer && input.customerEmail)
    throw invalidRequest(
      "You may only specify one of these parameters: customer, customer_email.",
      "customer",
    );
  if (input.customer) must(billing.state.customers, input.customer, "customer", "customer");
  if (input.lineItems.length === 0)
    throw invalidRequest("Missing required param: line_items.", "line_items", "parameter_missing");
  const lineItems = input.lineItems.map((li, i): CheckoutLineItem => {
    const price = billing.price(li.price, `line_items[${i}][price]`);
    const quantity = li.quantity ?? 1;
    const amount = price.unit_amount * quantity;
    return {
      id: newId("li"),
      object: "item",
      amount_discount: 0,
      amount_subtotal: amount,
      amount_tax: 0,
      amount_total: amount,
      currency: price.currency,
      description: billing.state.products[price.product]?.name ?? price.product,
      price: structuredClone(price),
      quantity,
    };
  });
  const total = lineItems.reduce((sum, li) => sum + li.amount_total, 0);
  const id = newId("cs_test");
  const now = nowSeconds();
  const session: CheckoutSession = {
    id,
    object: "checkout.session",
    after_expiration: null,
    allow_promotion_codes: null,
    amount_subtotal: total,
    amount_total: input.trialPeriodDays ? 0 : total,
    billing_address_collection: null,
    cancel_url: input.cancelUrl ?? null,
    client_reference_id: input.clientReferenceId ?? null,
    created: now,
    currency: lineItems[0]?.currency ?? "usd",
    customer: input.customer ?? null,
    customer_creation: input.customer ? null : "always",
    customer_details: null,
    customer_email: input.customerEmail ?? null,
    expires_at: now + DAY,
    invoice: null,
    livemode: false,
    locale: null,
    metadata: input.metadata ?? {},
    mode: "subscription",
    payment_intent: null,
    payment_method_collection: input.paymentMethodCollection ?? "always",
    payment_status: "unpaid",
    status: "open",
    submit_type: null,
    subscription: null,
    success_url: input.successUrl ?? null,
    total_details: { amount_discount: 0, amount_shipping: 0, amount_tax: 0 },
    ui_mode: "hosted",
    url: `${billing.baseUrl()}/checkout/${id}`,
  };
  billing.state.checkoutSessions[id] = session;
  billing.state.checkoutPlans[id] = {
    lineItems,
    trialPeriodDays: input.trialPeriodDays ?? null,
    subscriptionMetadata: input.subscriptionMetadata ?? {},
    missingPaymentMethod: input.missingPaymentMethod ?? "create_invoice",
  };
  return session;
}

export interface CheckoutForm {
  email: string;
  name: string;
  /** Digits only; empty means no card (allowed with `payment_method_collection=if_required` and a trial). */
  cardNumber: string;
}

/** Stripe's test cards: 4000 0000 0000 0002 is declined, any other well-formed number is accepted. */
const DECLINED_CARDS = new Set(["4000000000000002", "4000000000009995", "4000000000000069"]);

/**
 * The customer submits the hosted page: a customer is created if needed, the
 * card saved, the subscription started (active, or trialing) with its first
 * invoice paid, and `checkout.session.completed` emitted. Returns where to
 * send the browser (success_url with `{CHECKOUT_SESSION_ID}` replaced).
 */
export function completeCheckout(
  billing: Billing,
  id: string,
  form: CheckoutForm,
): { session: CheckoutSession; redirect: string | null } {
  const session = must(billing.state.checkoutSessions, id, "checkout session");
  const plan = must(billing.state.checkoutPlans, id, "checkout session");
  if (session.status !== "open")
    throw invalidRequest(
      `This Checkout Session is ${session.status}.`,
      undefined,
      "checkout_session_not_open",
    );
  const known = session.customer ? billing.state.customers[session.customer]?.email : session.customer_email;
  const email = known ?? form.email.trim();
  if (!email) throw invalidRequest("Enter your email address.", "email", "parameter_missing");
  const card = form.cardNumber.replace(/\D/g, "");
  const cardNeeded =
    session.payment_method_collection === "always" || (session.amount_total > 0 && !plan.trialPeriodDays);
  if (cardNeeded && card.length < 12)
    throw invalidRequest("Your card number is incomplete.", "card_number", "incomplete_number");
  if (card && DECLINED_CARDS.has(card)) throw cardDeclined("card_number");

  const customerId = session.customer ?? billing.createCustomer({ email, name: form.name.trim() || null }).id;
  if (card)
    billing.attachCard(customerId, {
      last4: card.slice(-4),
      brand: card.startsWith("5") ? "mastercard" : "visa",
      name: form.name.trim() || null,
    });
  const sub = startSubscription(billing, customerId, plan);
  const customer = must(billing.state.customers, customerId, "customer");
  session.status = "complete";
  session.customer = customerId;
  session.subscription = sub.id;
  session.invoice = sub.latest_invoice;
  session.payment_status = session.amount_total > 0 ? "paid" : "no_payment_required";
  session.customer_details = {
    address: null,
    email: customer.email ?? email,
    name: customer.name,
    phone: null,
    tax_exempt: "none",
    tax_ids: [],
  };
  session.url = null;
  billing.emitEvent({ type: "checkout.session.completed", object: session });
  const redirect = session.success_url?.replaceAll("{CHECKOUT_SESSION_ID}", session.id) ?? null;
  return { session, redirect };
}

/**
 * Checkout creates the subscription `incomplete`, pays its first invoice, then
 * moves it to `active` (a trial starts `trialing` with a $0 invoice), emitting
 * created → invoice events → updated, as Stripe does.
 */
function startSubscription(billing: Billing, customer: string, plan: CheckoutPlan): Subscription {
  const items = plan.lineItems.map((li) => ({ price: li.price.id, quantity: li.quantity }));
  if (plan.trialPeriodDays) {
    return billing.createSubscription({
      customer,
      items,
      metadata: plan.subscriptionMetadata,
      trialPeriodDays: plan.trialPeriodDays,
      missingPaymentMethod: plan.missingPaymentMethod,
    });
  }
  const sub = billing.createSubscription({
    customer,
    items,
    metadata: plan.subscriptionMetadata,
    paymentBehavior: "default_incomplete",
  });
  if (sub.status === "incomplete") {
    const invoice = billing.openInvoice(sub);
    if (invoice) billing.payInvoice(invoice);
    billing.setStatus(sub.id, "active");
  }
  return must(billing.state.subscriptions, sub.id, "subscription");
}

export function expireCheckout(billing: Billing, id: string): CheckoutSession {
  const session = must(billing.state.checkoutSessions, id, "checkout session");
  if (session.status !== "open")
    throw invalidRequest(
      `Only Checkout Sessions with a status in ["open"] can be expired. This Checkout Session has a status of "${session.status}".`,
    );
  session.status = "expired";
  session.url = null;
  billing.emitEvent({ type: "checkout.session.expired", object: session });
  return session;
}

export function createPortalSession(
  billing: Billing,
  input: { customer: string; returnUrl?: string },
): PortalSession {
  must(billing.state.customers, input.customer, "customer", "customer");
  const id = newId("bps");
  const session: PortalSession = {
    id,
    object: "billing_portal.session",
    configuration: "bpc_mindroom_local",
    created: nowSeconds(),
    customer: input.customer,
    flow: null,
    livemode: false,
    locale: null,
    on_behalf_of: null,
    return_url: input.returnUrl ?? null,
    url: `${billing.baseUrl()}/billing_portal/${id}`,
  };
  billing.state.portalSessions[id] = session;
  return session;
}
