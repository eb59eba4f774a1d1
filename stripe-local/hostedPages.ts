/**
 * The hosted pages Stripe serves and the portal sends customers to: Checkout
 * (`/checkout/<cs_…>`) and the Billing Portal (`/billing_portal/<bps_…>`).
 * Plain HTML forms that work with a keyboard and a screen reader (labelled
 * inputs, a landmark, errors announced with role=alert); no script needed.
 */
import type { CheckoutPlan, CheckoutSession, Customer, Price, Product, Subscription } from "./objects.ts";

export function escapeHtml(text: string): string {
  return text
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;")
    .replaceAll("'", "&#39;");
}

function money(cents: number, currency: string): string {
  return `${currency === "usd" ? "$" : `${currency.toUpperCase()} `}${(cents / 100).toFixed(2)}`;
}

function date(seconds: number): string {
  return new Date(seconds * 1000).toISOString().slice(0, 10);
}

const STYLE = `
body{font-family:system-ui,sans-serif;margin:0;background:#f6f8fa;color:#1a1f36}
main{max-width:32rem;margin:2rem auto;background:#fff;padding:2rem;border-radius:8px;box-shadow:0 1px 3px #0002}
h1{font-size:1.4rem;margin-top:0} label{display:block;margin:.8rem 0 .2rem;font-weight:600}
input,select{width:100%;box-sizing:border-box;padding:.55rem;font-size:1rem;border:1px solid #8792a2;border-radius:4px}
button,.button{display:inline-block;margin-top:1rem;padding:.6rem 1.1rem;font-size:1rem;border:0;border-radius:4px;background:#635bff;color:#fff;cursor:pointer;text-decoration:none}
button.secondary,.button.secondary{background:#e3e8ee;color:#1a1f36}
:focus-visible{outline:3px solid #0a2540;outline-offset:2px}
.error{color:#a4000f;background:#fde8ea;padding:.6rem;border-radius:4px}
.notice{color:#05532b;background:#d7f7e2;padding:.6rem;border-radius:4px}
.hint{color:#4f566b;font-size:.9rem} section{border-top:1px solid #e3e8ee;margin-top:1.2rem;padding-top:.8rem}
`;

function layout(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escapeHtml(title)}</title><style>${STYLE}</style></head>
<body><main>${body}</main></body></html>`;
}

export function checkoutPage(args: {
  session: CheckoutSession;
  plan: CheckoutPlan;
  /** The email Checkout already knows (customer_email, or the customer's). */
  knownEmail: string | null;
  error?: string;
  values?: { email?: string; name?: string };
}): string {
  const { session, plan } = args;
  const lines = plan.lineItems
    .map(
      (li) =>
        `<li>${escapeHtml(li.description)}: ${money(li.amount_total, li.currency)} / ${li.price.recurring.interval}</li>`,
    )
    .join("");
  const trial = plan.trialPeriodDays
    ? `<p>${plan.trialPeriodDays}-day free trial; then billed monthly.</p>`
    : "";
  const cardOptional =
    session.payment_method_collection === "if_required" &&
    (plan.trialPeriodDays || session.amount_total === 0);
  const email = args.knownEmail
    ? `<p>Email: <strong>${escapeHtml(args.knownEmail)}</strong></p>`
    : `<label for="email">Email</label>
<input id="email" name="email" type="email" autocomplete="email" required value="${escapeHtml(args.values?.email ?? "")}">`;
  const error = args.error
    ? `<p class="error" role="alert" id="form-error">${escapeHtml(args.error)}</p>`
    : "";
  const cancel = session.cancel_url
    ? `<p><a class="button secondary" href="${escapeHtml(session.cancel_url)}">Cancel and go back</a></p>`
    : "";
  return layout(
    "Checkout — MindRoom Cloud (local Stripe)",
    `<h1>Subscribe to MindRoom Cloud</h1>
<ul>${lines}</ul>${trial}
<p>Total due today: <strong>${money(plan.trialPeriodDays ? 0 : session.amount_total, session.currency)}</strong></p>
${error}
<form method="post" action="/checkout/${escapeHtml(session.id)}"${args.error ? ' aria-describedby="form-error"' : ""}>
${email}
<label for="name">Name on card</label>
<input id="name" name="name" type="text" autocomplete="cc-name" value="${escapeHtml(args.values?.name ?? "")}">
<label for="card_number">Card number</label>
<input id="card_number" name="card_number" type="text" inputmode="numeric" autocomplete="cc-number" ${cardOptional ? "" : "required"} aria-describedby="card-hint" placeholder="4242 4242 4242 4242">
<p class="hint" id="card-hint">Test mode: 4242 4242 4242 4242 succeeds, 4000 0000 0000 0002 is declined.${cardOptional ? " Optional during the trial." : ""}</p>
<label for="expiry">Expiry (MM / YY)</label>
<input id="expiry" name="expiry" type="text" autocomplete="cc-exp" placeholder="12 / 34">
<label for="cvc">CVC</label>
<input id="cvc" name="cvc" type="text" inputmode="numeric" autocomplete="cc-csc" placeholder="123">
<button type="submit">${plan.trialPeriodDays ? "Start trial" : "Subscribe"}</button>
</form>
${cancel}`,
  );
}

export function messagePage(title: string, message: string, link?: { href: string; label: string }): string {
  return layout(
    title,
    `<h1>${escapeHtml(title)}</h1><p>${escapeHtml(message)}</p>${
      link ? `<p><a class="button" href="${escapeHtml(link.href)}">${escapeHtml(link.label)}</a></p>` : ""
    }`,
  );
}

function subscriptionSection(
  sub: Subscription,
  prices: Price[],
  products: Record<string, Product>,
  action: string,
): string {
  const item = sub.items.data[0];
  const current = item?.price;
  const name = current ? (products[current.product]?.name ?? current.product) : "(no plan)";
  const periodEnd = item ? date(item.current_period_end) : "";
  const state = sub.cancel_at_period_end
    ? `Cancels on ${date(sub.cancel_at ?? item?.current_period_end ?? 0)}.`
    : sub.status === "trialing"
      ? `Trial ends on ${date(sub.trial_end ?? 0)}.`
      : `Renews on ${periodEnd}.`;
  const hidden = `<input type="hidden" name="subscription" value="${escapeHtml(sub.id)}">`;
  const options = prices
    .filter((p) => p.id !== current?.id)
    .map(
      (p) =>
        `<option value="${escapeHtml(p.id)}">${escapeHtml(products[p.product]?.name ?? p.product)} — ${money(p.unit_amount, p.currency)} / month</option>`,
    )
    .join("");
  const switchForm =
    sub.status === "canceled" || !options
      ? ""
      : `<form method="post" action="${action}">${hidden}<input type="hidden" name="action" value="switch">
<label for="price-${escapeHtml(sub.id)}">Switch plan</label>
<select id="price-${escapeHtml(sub.id)}" name="price">${options}</select>
<button type="submit">Switch plan</button></form>`;
  const cancelForm = sub.cancel_at_period_end
    ? `<form method="post" action="${action}">${hidden}<input type="hidden" name="action" value="renew">
<button type="submit">Don't cancel (renew)</button></form>`
    : `<form method="post" action="${action}">${hidden}<input type="hidden" name="action" value="cancel">
<button type="submit" class="secondary">Cancel plan</button></form>`;
  return `<section aria-labelledby="h-${escapeHtml(sub.id)}">
<h2 id="h-${escapeHtml(sub.id)}">${escapeHtml(name)}</h2>
<p>${current ? `${money(current.unit_amount, current.currency)} / month. ` : ""}Status: <strong>${escapeHtml(sub.status)}</strong>. ${escapeHtml(state)}</p>
${switchForm}${sub.status === "canceled" ? "" : cancelForm}</section>`;
}

export function portalPage(args: {
  sessionId: string;
  customer: Customer;
  subscriptions: Subscription[];
  prices: Price[];
  products: Record<string, Product>;
  returnUrl: string | null;
  notice?: string;
  error?: string;
}): string {
  const action = `/billing_portal/${escapeHtml(args.sessionId)}`;
  const subs = args.subscriptions.length
    ? args.subscriptions.map((s) => subscriptionSection(s, args.prices, args.products, action)).join("")
    : "<p>No active subscription.</p>";
  const notice = args.notice ? `<p class="notice" role="status">${escapeHtml(args.notice)}</p>` : "";
  const error = args.error ? `<p class="error" role="alert">${escapeHtml(args.error)}</p>` : "";
  const back = args.returnUrl
    ? `<p><a class="button secondary" href="${escapeHtml(args.returnUrl)}">Return to MindRoom Cloud</a></p>`
    : "";
  return layout(
    "Billing — MindRoom Cloud (local Stripe)",
    `<h1>Manage your subscription</h1>
<p>Signed in as ${escapeHtml(args.customer.email ?? args.customer.id)}</p>
${notice}${error}${subs}${back}`,
  );
}
