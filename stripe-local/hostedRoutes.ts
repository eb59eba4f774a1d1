/**
 * Serves the hosted Checkout and Billing Portal pages and acts on their forms.
 * A completed checkout redirects (303) to `success_url` with
 * `{CHECKOUT_SESSION_ID}` replaced; portal actions redirect back to the portal.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Billing } from "./billing.ts";
import { StripeApiError } from "./errors.ts";
import { checkoutPage, messagePage, portalPage } from "./hostedPages.ts";
import { parseForm } from "./params.ts";
import { completeCheckout } from "./sessions.ts";

interface HostedRequest {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  body: string;
  billing: Billing;
}

/** Marks a response as written, so handlers can `return html(…)`. */
type Sent = "sent";

function html(res: ServerResponse, status: number, text: string): Sent {
  res.writeHead(status, {
    "content-type": "text/html; charset=utf-8",
    "content-length": Buffer.byteLength(text),
    "cache-control": "no-store",
  });
  res.end(text);
  return "sent";
}

function redirect(res: ServerResponse, location: string): Sent {
  res.writeHead(303, { location, "content-length": 0 });
  res.end();
  return "sent";
}

function field(form: Record<string, unknown>, name: string): string {
  const v = form[name];
  return typeof v === "string" ? v : "";
}

/** Returns false when the path is not a hosted page. */
export function handleHostedPage({ req, res, url, body, billing }: HostedRequest): boolean {
  const checkout = /^\/checkout\/(cs_[A-Za-z0-9_]+)$/.exec(url.pathname);
  if (checkout?.[1]) {
    handleCheckout(req, res, checkout[1], body, billing);
    return true;
  }
  const portal = /^\/billing_portal\/(bps_[A-Za-z0-9]+)$/.exec(url.pathname);
  if (portal?.[1]) {
    handlePortal(req, res, url, portal[1], body, billing);
    return true;
  }
  return false;
}

function handleCheckout(
  req: IncomingMessage,
  res: ServerResponse,
  id: string,
  body: string,
  billing: Billing,
): Sent {
  const session = billing.state.checkoutSessions[id];
  const plan = billing.state.checkoutPlans[id];
  if (!session || !plan)
    return html(res, 404, messagePage("Checkout not found", "This checkout link is not valid."));
  if (session.status !== "open") {
    const next =
      session.status === "complete"
        ? session.success_url?.replaceAll("{CHECKOUT_SESSION_ID}", id)
        : session.cancel_url;
    return html(
      res,
      410,
      messagePage(
        session.status === "complete" ? "Already paid" : "Checkout expired",
        session.status === "complete"
          ? "This checkout is already complete."
          : "This checkout session has expired.",
        next ? { href: next, label: "Continue" } : undefined,
      ),
    );
  }
  const knownEmail =
    (session.customer ? billing.state.customers[session.customer]?.email : session.customer_email) ?? null;
  if (req.method !== "POST") return html(res, 200, checkoutPage({ session, plan, knownEmail }));
  const form = parseForm(body);
  const values = { email: field(form, "email"), name: field(form, "name") };
  try {
    const { redirect: next } = completeCheckout(billing, id, {
      ...values,
      cardNumber: field(form, "card_number"),
    });
    if (next) return redirect(res, next);
    return html(res, 200, messagePage("Payment complete", "Your subscription is active."));
  } catch (error) {
    if (!(error instanceof StripeApiError)) throw error;
    return html(
      res,
      error.status === 402 ? 402 : 400,
      checkoutPage({ session, plan, knownEmail, error: error.message, values }),
    );
  }
}

const NOTICES: Record<string, string> = {
  switched: "Your plan was changed.",
  canceled: "Your plan will be canceled at the end of the billing period.",
  renewed: "Your plan will renew.",
};

function handlePortal(
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  id: string,
  body: string,
  billing: Billing,
): Sent {
  const session = billing.state.portalSessions[id];
  const customer = session ? billing.state.customers[session.customer] : undefined;
  if (!session || !customer)
    return html(res, 404, messagePage("Session not found", "This billing link is not valid."));
  const page = (status: number, extra: { notice?: string; error?: string }) =>
    html(
      res,
      status,
      portalPage({
        sessionId: id,
        customer,
        subscriptions: Object.values(billing.state.subscriptions).filter(
          (s) => s.customer === customer.id && s.status !== "canceled" && s.status !== "incomplete_expired",
        ),
        prices: Object.values(billing.state.prices).filter((p) => p.active),
        products: billing.state.products,
        returnUrl: session.return_url,
        ...extra,
      }),
    );
  if (req.method !== "POST") {
    const done = url.searchParams.get("done") ?? "";
    return page(200, NOTICES[done] ? { notice: NOTICES[done] } : {});
  }
  const form = parseForm(body);
  const subId = field(form, "subscription");
  const sub = billing.state.subscriptions[subId];
  if (!sub || sub.customer !== customer.id) return page(404, { error: "That subscription is not yours." });
  try {
    const action = field(form, "action");
    if (action === "switch") {
      const item = sub.items.data[0];
      if (!item) return page(400, { error: "The subscription has no plan to switch." });
      billing.updateSubscription(sub.id, {
        items: [{ id: item.id, price: field(form, "price") }],
        prorationBehavior: "create_prorations",
      });
      return redirect(res, `/billing_portal/${id}?done=switched`);
    }
    if (action === "cancel" || action === "renew") {
      billing.updateSubscription(sub.id, { cancelAtPeriodEnd: action === "cancel" });
      return redirect(res, `/billing_portal/${id}?done=${action === "cancel" ? "canceled" : "renewed"}`);
    }
    return page(400, { error: `Unknown action ${action}` });
  } catch (error) {
    if (!(error instanceof StripeApiError)) throw error;
    return page(400, { error: error.message });
  }
}
