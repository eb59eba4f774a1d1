/** Subscriptions and invoices endpoints. */
import { z } from "zod";
import { SUBSCRIPTION_STATUSES } from "../database/subscriptions.ts";
import { mergeMetadata } from "./billing.ts";
import { invalidRequest } from "./errors.ts";
import { previewInvoice } from "./items.ts";
import { runControl } from "./lifecycle.ts";
import {
  expandParam,
  formBool,
  formInt,
  inRange,
  metadataParam,
  nonEmpty,
  paginationShape,
  parseParams,
  rangeParam,
} from "./params.ts";
import { type Handler, one } from "./resources.ts";
import { must, page } from "./state.ts";

const paymentBehavior = z.enum([
  "allow_incomplete",
  "default_incomplete",
  "error_if_incomplete",
  "pending_if_incomplete",
]);
const prorationBehavior = z.enum(["always_invoice", "create_prorations", "none"]);
const trialSettings = z.strictObject({
  end_behavior: z.strictObject({ missing_payment_method: z.enum(["cancel", "create_invoice", "pause"]) }),
});

const createSubscription: Handler = ({ params, billing }) => {
  const p = parseParams(
    z.strictObject({
      customer: nonEmpty,
      items: z.array(
        z.strictObject({
          price: nonEmpty,
          quantity: formInt.optional(),
          metadata: metadataParam.optional(),
        }),
      ),
      metadata: metadataParam.optional(),
      trial_period_days: formInt.optional(),
      trial_end: z.union([z.literal("now"), formInt]).optional(),
      trial_settings: trialSettings.optional(),
      default_payment_method: z.string().optional(),
      payment_behavior: paymentBehavior.optional(),
      proration_behavior: prorationBehavior.optional(),
      cancel_at_period_end: formBool.optional(),
      collection_method: z.literal("charge_automatically").optional(),
      description: z.string().optional(),
      off_session: formBool.optional(),
      expand: expandParam,
    }),
    params,
  );
  if (p.default_payment_method)
    must(billing.state.paymentMethods, p.default_payment_method, "PaymentMethod", "default_payment_method");
  const sub = billing.createSubscription({
    customer: p.customer,
    items: p.items.map((it) => ({
      price: it.price,
      ...(it.quantity !== undefined ? { quantity: it.quantity } : {}),
    })),
    metadata: mergeMetadata({}, p.metadata),
    ...(p.trial_period_days ? { trialPeriodDays: p.trial_period_days } : {}),
    ...(typeof p.trial_end === "number" ? { trialEnd: p.trial_end } : {}),
    ...(p.trial_settings
      ? { missingPaymentMethod: p.trial_settings.end_behavior.missing_payment_method }
      : {}),
    ...(p.default_payment_method ? { defaultPaymentMethod: p.default_payment_method } : {}),
    ...(p.payment_behavior ? { paymentBehavior: p.payment_behavior } : {}),
    ...(p.cancel_at_period_end !== undefined ? { cancelAtPeriodEnd: p.cancel_at_period_end } : {}),
    ...(p.description ? { description: p.description } : {}),
  });
  return one(billing.state, sub, p.expand);
};

const updateSubscription: Handler = ({ params, billing, ids: [id = ""] }) => {
  const p = parseParams(
    z.strictObject({
      items: z
        .array(
          z.strictObject({
            id: z.string().optional(),
            price: z.string().optional(),
            quantity: formInt.optional(),
            deleted: formBool.optional(),
            metadata: metadataParam.optional(),
          }),
        )
        .optional(),
      proration_behavior: prorationBehavior.optional(),
      proration_date: formInt.optional(),
      payment_behavior: paymentBehavior.optional(),
      cancel_at_period_end: formBool.optional(),
      cancellation_details: z
        .strictObject({ comment: z.string().optional(), feedback: z.string().optional() })
        .optional(),
      metadata: metadataParam.optional(),
      default_payment_method: z.string().optional(),
      description: z.string().optional(),
      trial_end: z.literal("now").optional(),
      billing_cycle_anchor: z.enum(["now", "unchanged"]).optional(),
      expand: expandParam,
    }),
    params,
  );
  if (p.default_payment_method)
    must(billing.state.paymentMethods, p.default_payment_method, "PaymentMethod", "default_payment_method");
  if (p.trial_end === "now") runControl(billing, "trial_end", id, {});
  const sub = billing.updateSubscription(id, {
    ...(p.items ? { items: p.items } : {}),
    ...(p.proration_behavior ? { prorationBehavior: p.proration_behavior } : {}),
    ...(p.cancel_at_period_end !== undefined ? { cancelAtPeriodEnd: p.cancel_at_period_end } : {}),
    ...(p.cancellation_details ? { cancellationDetails: p.cancellation_details } : {}),
    ...(p.metadata !== undefined ? { metadata: p.metadata } : {}),
    ...(p.default_payment_method !== undefined
      ? { defaultPaymentMethod: p.default_payment_method || null }
      : {}),
    ...(p.description !== undefined ? { description: p.description || null } : {}),
  });
  return one(billing.state, sub, p.expand);
};

const cancelSubscription: Handler = ({ params, billing, ids: [id = ""] }) => {
  const p = parseParams(
    z.strictObject({
      invoice_now: formBool.optional(),
      prorate: formBool.optional(),
      cancellation_details: z
        .strictObject({ comment: z.string().optional(), feedback: z.string().optional() })
        .optional(),
      expand: expandParam,
    }),
    params,
  );
  const sub = billing.cancelNow(id, {
    reason: "cancellation_requested",
    ...(p.cancellation_details?.comment ? { comment: p.cancellation_details.comment } : {}),
    ...(p.cancellation_details?.feedback ? { feedback: p.cancellation_details.feedback } : {}),
  });
  return one(billing.state, sub, p.expand);
};

const listSubscriptions: Handler = ({ params, billing }) => {
  const p = parseParams(
    z.strictObject({
      ...paginationShape,
      customer: z.string().optional(),
      price: z.string().optional(),
      status: z.enum([...SUBSCRIPTION_STATUSES, "all", "ended"]).optional(),
      created: rangeParam.optional(),
      collection_method: z.string().optional(),
    }),
    params,
  );
  const items = Object.values(billing.state.subscriptions).filter((s) => {
    // Stripe's default list leaves out canceled subscriptions; `all` includes them.
    const statusOk =
      p.status === undefined
        ? s.status !== "canceled"
        : p.status === "all"
          ? true
          : p.status === "ended"
            ? s.status === "canceled" || s.status === "incomplete_expired"
            : s.status === p.status;
    return (
      statusOk &&
      (p.customer === undefined || s.customer === p.customer) &&
      (p.price === undefined || s.items.data.some((it) => it.price.id === p.price)) &&
      inRange(s.created, p.created)
    );
  });
  return one(billing.state, page(items, p, "/v1/subscriptions"), p.expand);
};

const listInvoices: Handler = ({ params, billing }) => {
  const p = parseParams(
    z.strictObject({
      ...paginationShape,
      customer: z.string().optional(),
      subscription: z.string().optional(),
      status: z.enum(["draft", "open", "paid", "uncollectible", "void"]).optional(),
      created: rangeParam.optional(),
      collection_method: z.string().optional(),
    }),
    params,
  );
  const items = Object.values(billing.state.invoices).filter(
    (i) =>
      (p.customer === undefined || i.customer === p.customer) &&
      (p.subscription === undefined || i.parent.subscription_details.subscription === p.subscription) &&
      (p.status === undefined || i.status === p.status) &&
      inRange(i.created, p.created),
  );
  return one(billing.state, page(items, p, "/v1/invoices"), p.expand);
};

const retrieveWith =
  (table: "subscriptions" | "invoices", kind: string): Handler =>
  ({ params, billing, ids: [id = ""] }) => {
    const p = parseParams(z.strictObject({ expand: expandParam }), params);
    return one(billing.state, must<unknown>(billing.state[table], id, kind), p.expand);
  };

const createPreview: Handler = ({ params, billing }) => {
  const p = parseParams(
    z.strictObject({
      customer: nonEmpty.optional(),
      subscription: nonEmpty,
      subscription_details: z
        .strictObject({
          items: z
            .array(
              z.strictObject({
                id: z.string().optional(),
                price: z.string().optional(),
                quantity: formInt.optional(),
                deleted: formBool.optional(),
              }),
            )
            .optional(),
          proration_behavior: prorationBehavior.optional(),
          proration_date: formInt.optional(),
        })
        .optional(),
      expand: expandParam,
    }),
    params,
  );
  const sub = must(billing.state.subscriptions, p.subscription, "subscription", "subscription");
  if (p.customer && p.customer !== sub.customer)
    throw invalidRequest(`The subscription ${sub.id} does not belong to customer ${p.customer}.`, "customer");
  const details = p.subscription_details;
  const invoice = previewInvoice(billing, sub.id, {
    ...(details?.items ? { items: details.items } : {}),
    ...(details?.proration_behavior ? { prorationBehavior: details.proration_behavior } : {}),
  });
  return one(billing.state, invoice, p.expand);
};

const listItems: Handler = ({ params, billing }) => {
  const p = parseParams(z.strictObject({ ...paginationShape, subscription: nonEmpty }), params);
  const sub = must(billing.state.subscriptions, p.subscription, "subscription", "subscription");
  return one(billing.state, page([...sub.items.data].reverse(), p, "/v1/subscription_items"), p.expand);
};

export const SUBSCRIPTION_ROUTES: [method: string, path: string, handler: Handler][] = [
  ["POST", "/v1/subscriptions", createSubscription],
  ["GET", "/v1/subscriptions", listSubscriptions],
  ["GET", "/v1/subscriptions/:id", retrieveWith("subscriptions", "subscription")],
  ["POST", "/v1/subscriptions/:id", updateSubscription],
  ["DELETE", "/v1/subscriptions/:id", cancelSubscription],
  ["GET", "/v1/subscription_items", listItems],
  ["GET", "/v1/invoices", listInvoices],
  ["POST", "/v1/invoices/create_preview", createPreview],
  ["GET", "/v1/invoices/:id", retrieveWith("invoices", "invoice")],
];
