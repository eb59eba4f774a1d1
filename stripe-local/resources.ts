/**
 * The Stripe API endpoints the project uses, each with its parameters
 * validated the way Stripe validates them (unknown parameters rejected), over
 * the shared state. Every mutation goes through {@link Billing} so it emits
 * Stripe's events.
 */
import { z } from "zod";
import { type Billing, mergeMetadata } from "./billing.ts";
import { invalidRequest } from "./errors.ts";
import { expand } from "./expand.ts";
import { resume } from "./lifecycle.ts";
import {
  expandParam,
  formBool,
  formInt,
  inRange,
  metadataParam,
  nonEmpty,
  type Params,
  paginationShape,
  parseParams,
  rangeParam,
} from "./params.ts";
import { createCheckoutSession, createPortalSession, expireCheckout } from "./sessions.ts";
import { must, page, type StateData } from "./state.ts";
import type { WebhookSender } from "./webhookSender.ts";

export interface ApiRequest {
  method: string;
  /** Path segments captured by the route (ids). */
  ids: string[];
  params: Params;
  billing: Billing;
  sender: WebhookSender;
}

export type Handler = (req: ApiRequest) => unknown;

const nullable = <T extends z.ZodType>(schema: T) => z.union([z.literal(""), schema]).optional();

export function one<T>(state: StateData, object: T, paths: string[] | undefined): T {
  return expand(state, object, paths);
}

// ── customers ──────────────────────────────────────────────────────────────

const customerFields = {
  email: nullable(z.string()),
  name: nullable(z.string()),
  description: nullable(z.string()),
  phone: nullable(z.string()),
  metadata: metadataParam.optional(),
  expand: expandParam,
};

const createCustomer: Handler = ({ params, billing }) => {
  const p = parseParams(
    z.strictObject({
      ...customerFields,
      payment_method: z.string().optional(),
      invoice_settings: z.strictObject({ default_payment_method: z.string().optional() }).optional(),
    }),
    params,
  );
  const customer = billing.createCustomer({
    email: p.email || null,
    name: p.name || null,
    description: p.description || null,
    phone: p.phone || null,
    metadata: mergeMetadata({}, p.metadata),
  });
  return one(billing.state, customer, p.expand);
};

const updateCustomer: Handler = ({ params, billing, ids: [id = ""] }) => {
  const p = parseParams(
    z.strictObject({
      ...customerFields,
      invoice_settings: z.strictObject({ default_payment_method: nullable(z.string()) }).optional(),
    }),
    params,
  );
  const pm = p.invoice_settings?.default_payment_method;
  if (pm) must(billing.state.paymentMethods, pm, "PaymentMethod", "invoice_settings[default_payment_method]");
  const customer = billing.updateCustomer(id, (c) => {
    if (p.email !== undefined) c.email = p.email || null;
    if (p.name !== undefined) c.name = p.name || null;
    if (p.description !== undefined) c.description = p.description || null;
    if (p.phone !== undefined) c.phone = p.phone || null;
    c.metadata = mergeMetadata(c.metadata, p.metadata);
    if (pm !== undefined) c.invoice_settings.default_payment_method = pm || null;
  });
  return one(billing.state, customer, p.expand);
};

/** A deleted customer still retrieves, as Stripe's `{ id, object, deleted: true }`. */
const retrieveCustomer: Handler = (req) => {
  const [id = ""] = req.ids;
  if (req.billing.state.deletedCustomers.includes(id) && !req.billing.state.customers[id]) {
    parseParams(z.strictObject({ expand: expandParam }), req.params);
    return { id, object: "customer", deleted: true };
  }
  return retrieve("customers", "customer")(req);
};

const listCustomers: Handler = ({ params, billing }) => {
  const p = parseParams(
    z.strictObject({ ...paginationShape, email: z.string().optional(), created: rangeParam.optional() }),
    params,
  );
  const items = Object.values(billing.state.customers).filter(
    (c) => (p.email === undefined || c.email === p.email) && inRange(c.created, p.created),
  );
  return one(billing.state, page(items, p, "/v1/customers"), p.expand);
};

// ── catalog ────────────────────────────────────────────────────────────────

const listProducts: Handler = ({ params, billing }) => {
  const p = parseParams(
    z.strictObject({ ...paginationShape, active: formBool.optional(), ids: z.array(z.string()).optional() }),
    params,
  );
  const items = Object.values(billing.state.products).filter(
    (x) => (p.active === undefined || x.active === p.active) && (!p.ids || p.ids.includes(x.id)),
  );
  return one(billing.state, page(items, p, "/v1/products"), p.expand);
};

const listPrices: Handler = ({ params, billing }) => {
  const p = parseParams(
    z.strictObject({
      ...paginationShape,
      active: formBool.optional(),
      product: z.string().optional(),
      type: z.enum(["one_time", "recurring"]).optional(),
      currency: z.string().optional(),
      lookup_keys: z.array(z.string()).optional(),
    }),
    params,
  );
  const items = Object.values(billing.state.prices).filter(
    (x) =>
      (p.active === undefined || x.active === p.active) &&
      (p.product === undefined || x.product === p.product) &&
      (p.type === undefined || x.type === p.type) &&
      (p.currency === undefined || x.currency === p.currency) &&
      (!p.lookup_keys || (x.lookup_key !== null && p.lookup_keys.includes(x.lookup_key))),
  );
  return one(billing.state, page(items, p, "/v1/prices"), p.expand);
};

export function retrieve(table: keyof StateData, kind: string): Handler {
  return ({ params, billing, ids: [id = ""] }) => {
    const p = parseParams(z.strictObject({ expand: expandParam }), params);
    const object = must(billing.state[table] as Record<string, unknown>, id, kind);
    return one(billing.state, object, p.expand);
  };
}

// ── checkout and portal ────────────────────────────────────────────────────

const lineItem = z.strictObject({ price: nonEmpty, quantity: formInt.optional() });

const createCheckout: Handler = ({ params, billing }) => {
  const p = parseParams(
    z.strictObject({
      mode: z.enum(["payment", "setup", "subscription"]),
      line_items: z.array(lineItem),
      customer: z.string().optional(),
      customer_email: z.string().optional(),
      client_reference_id: z.string().optional(),
      success_url: z.string().optional(),
      cancel_url: z.string().optional(),
      metadata: metadataParam.optional(),
      allow_promotion_codes: formBool.optional(),
      billing_address_collection: z.enum(["auto", "required"]).optional(),
      payment_method_collection: z.enum(["always", "if_required"]).optional(),
      payment_method_types: z.array(z.string()).optional(),
      customer_update: z.record(z.string(), z.string()).optional(),
      locale: z.string().optional(),
      subscription_data: z
        .strictObject({
          trial_period_days: formInt.optional(),
          metadata: metadataParam.optional(),
          description: z.string().optional(),
          trial_settings: z
            .strictObject({
              end_behavior: z.strictObject({
                missing_payment_method: z.enum(["cancel", "create_invoice", "pause"]),
              }),
            })
            .optional(),
        })
        .optional(),
      expand: expandParam,
    }),
    params,
  );
  if (p.mode !== "subscription")
    throw invalidRequest(`The local Stripe API only supports mode=subscription (got ${p.mode}).`, "mode");
  const session = createCheckoutSession(billing, {
    lineItems: p.line_items,
    ...(p.customer ? { customer: p.customer } : {}),
    ...(p.customer_email ? { customerEmail: p.customer_email } : {}),
    ...(p.client_reference_id ? { clientReferenceId: p.client_reference_id } : {}),
    ...(p.success_url ? { successUrl: p.success_url } : {}),
    ...(p.cancel_url ? { cancelUrl: p.cancel_url } : {}),
    metadata: mergeMetadata({}, p.metadata),
    ...(p.subscription_data?.trial_period_days
      ? { trialPeriodDays: p.subscription_data.trial_period_days }
      : {}),
    subscriptionMetadata: mergeMetadata({}, p.subscription_data?.metadata),
    ...(p.subscription_data?.trial_settings
      ? { missingPaymentMethod: p.subscription_data.trial_settings.end_behavior.missing_payment_method }
      : {}),
    ...(p.payment_method_collection ? { paymentMethodCollection: p.payment_method_collection } : {}),
  });
  return checkoutWithLineItems(billing.state, session.id, p.expand);
};

/** `line_items` is includable only through `expand`, as in Stripe. */
function checkoutWithLineItems(state: StateData, id: string, paths: string[] | undefined): unknown {
  const session = must(state.checkoutSessions, id, "checkout session");
  const wantsLines = paths?.some((x) => x === "line_items" || x.startsWith("line_items."));
  const rest = paths?.filter((x) => x !== "line_items" && !x.startsWith("line_items."));
  const out: Record<string, unknown> = { ...structuredClone(session) };
  if (wantsLines) {
    const data = state.checkoutPlans[id]?.lineItems ?? [];
    out.line_items = { object: "list", data, has_more: false, url: `/v1/checkout/sessions/${id}/line_items` };
  }
  const nested = paths?.filter((x) => x.startsWith("line_items.")) ?? [];
  return expand(state, expand(state, out, rest), nested);
}

const retrieveCheckout: Handler = ({ params, billing, ids: [id = ""] }) => {
  const p = parseParams(z.strictObject({ expand: expandParam }), params);
  return checkoutWithLineItems(billing.state, id, p.expand);
};

const listCheckout: Handler = ({ params, billing }) => {
  const p = parseParams(
    z.strictObject({
      ...paginationShape,
      customer: z.string().optional(),
      subscription: z.string().optional(),
      status: z.enum(["open", "complete", "expired"]).optional(),
      created: rangeParam.optional(),
    }),
    params,
  );
  const items = Object.values(billing.state.checkoutSessions).filter(
    (s) =>
      (p.customer === undefined || s.customer === p.customer) &&
      (p.subscription === undefined || s.subscription === p.subscription) &&
      (p.status === undefined || s.status === p.status) &&
      inRange(s.created, p.created),
  );
  return one(billing.state, page(items, p, "/v1/checkout/sessions"), p.expand);
};

const checkoutLineItems: Handler = ({ params, billing, ids: [id = ""] }) => {
  const p = parseParams(z.strictObject(paginationShape), params);
  must(billing.state.checkoutSessions, id, "checkout session");
  const items = [...(billing.state.checkoutPlans[id]?.lineItems ?? [])].reverse();
  return one(billing.state, page(items, p, `/v1/checkout/sessions/${id}/line_items`), p.expand);
};

const createPortal: Handler = ({ params, billing }) => {
  const p = parseParams(
    z.strictObject({
      customer: nonEmpty,
      return_url: z.string().optional(),
      configuration: z.string().optional(),
      locale: z.string().optional(),
      expand: expandParam,
    }),
    params,
  );
  const session = createPortalSession(billing, {
    customer: p.customer,
    ...(p.return_url ? { returnUrl: p.return_url } : {}),
  });
  return one(billing.state, session, p.expand);
};

export const RESOURCE_ROUTES: [method: string, path: string, handler: Handler][] = [
  ["POST", "/v1/customers", createCustomer],
  ["GET", "/v1/customers", listCustomers],
  ["GET", "/v1/customers/:id", retrieveCustomer],
  ["POST", "/v1/customers/:id", updateCustomer],
  ["DELETE", "/v1/customers/:id", ({ billing, ids: [id = ""] }) => billing.deleteCustomer(id)],
  ["GET", "/v1/products", listProducts],
  ["GET", "/v1/products/:id", retrieve("products", "product")],
  ["GET", "/v1/prices", listPrices],
  ["GET", "/v1/prices/:id", retrieve("prices", "price")],
  ["GET", "/v1/payment_methods/:id", retrieve("paymentMethods", "PaymentMethod")],
  ["POST", "/v1/checkout/sessions", createCheckout],
  ["GET", "/v1/checkout/sessions", listCheckout],
  ["GET", "/v1/checkout/sessions/:id", retrieveCheckout],
  ["GET", "/v1/checkout/sessions/:id/line_items", checkoutLineItems],
  ["POST", "/v1/checkout/sessions/:id/expire", ({ billing, ids: [id = ""] }) => expireCheckout(billing, id)],
  ["POST", "/v1/billing_portal/sessions", createPortal],
  ["POST", "/v1/subscriptions/:id/resume", ({ billing, ids: [id = ""] }) => resume(billing, id)],
];
