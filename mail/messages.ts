/**
 * What each email says: one entry per kind, with the facts it needs (parsed
 * with zod when the email is rendered, so a malformed outbox row fails loudly)
 * and its subject, text and HTML. Pure: the same facts and links always render
 * the same message. Facts hold dates, tiers and public URLs, never a secret;
 * every value is escaped in HTML.
 */
import { z } from "zod";
import { isTierId, tier as tierOf } from "../components/tiers.ts";

/** Where links point: the portal's public URL, without a trailing slash. */
export interface Links {
  readonly portalUrl: string;
}

export interface RenderedMail {
  readonly subject: string;
  readonly text: string;
  readonly html: string;
}

const isoDate = z.iso.datetime({ offset: true });
const url = z.url({ protocol: /^https?$/ });
const tierName = z.string().transform((id) => (isTierId(id) ? tierOf(id).label : id));

const instanceFacts = {
  /** How to greet them (their name, or their email). */
  name: z.string().min(1),
  slug: z.string().min(1),
  tier: tierName,
};

/** Each kind's facts. Adding a kind: its facts here, its words in COMPOSE. */
export const FACTS = {
  welcome: z.object({
    ...instanceFacts,
    email: z.string().min(3),
    urls: z.object({ app: url, api: url, matrix: url }),
  }),
  provisioning_delayed: z.object({ ...instanceFacts, at: isoDate, nextAttemptAt: isoDate.nullable() }),
  provisioning_failed: z.object({ ...instanceFacts, at: isoDate }),
  payment_failed: z.object({
    ...instanceFacts,
    at: isoDate,
    /** The end of the billing period the failed payment was for. */
    periodEnd: isoDate.nullable(),
  }),
  suspended: z.object({
    ...instanceFacts,
    at: isoDate,
    cause: z.enum(["payment", "hold", "subscription"]),
    /** The operator's reason, when an operator suspended it. */
    reason: z.string().nullable(),
  }),
  resumed: z.object({ ...instanceFacts, at: isoDate, urls: z.object({ app: url }).nullable() }),
  deletion_scheduled: z.object({ ...instanceFacts, at: isoDate, deletionDueAt: isoDate }),
  deleted: z.object({ ...instanceFacts, at: isoDate }),
  data_export_ready: z.object({ name: z.string().min(1), at: isoDate, path: z.string().startsWith("/") }),
  quota_warning: z.object({
    ...instanceFacts,
    metric: z.enum(["storage", "agents", "messages"]),
    percent: z.union([z.literal(80), z.literal(100)]),
    used: z.string().min(1),
    limit: z.string().min(1),
    /** The measurement's day (`YYYY-MM-DD`). */
    day: z.iso.date(),
  }),
} as const;

export type MailKind = keyof typeof FACTS;
export const MAIL_KINDS = Object.keys(FACTS) as MailKind[];
export type MailFacts<K extends MailKind> = z.input<(typeof FACTS)[K]>;

export function isMailKind(kind: string): kind is MailKind {
  return Object.hasOwn(FACTS, kind);
}

/** A day as people read it, in UTC: "Friday, 11 December 2026". */
export function formatDay(iso: string): string {
  return new Intl.DateTimeFormat("en-GB", { timeZone: "UTC", dateStyle: "full" }).format(new Date(iso));
}

/** A moment as people read it, in UTC and saying so: "Friday, 11 December 2026 at 14:05 UTC". */
export function formatDate(iso: string): string {
  const date = new Date(iso);
  const day = formatDay(iso);
  const time = new Intl.DateTimeFormat("en-GB", {
    timeZone: "UTC",
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
  }).format(date);
  return `${day} at ${time} UTC`;
}

export function escapeHtml(value: string): string {
  return value
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;")
    .replaceAll("'", "&#39;");
}

/** A paragraph of text, or a labelled link: the blocks every email is made of. */
type Block = string | { readonly label: string; readonly href: string };

interface Composed {
  readonly subject: string;
  readonly greeting: string;
  readonly blocks: readonly Block[];
}

const METRIC_WORDS = { storage: "storage", agents: "agents", messages: "messages today" } as const;

const COMPOSE: { readonly [K in MailKind]: (f: z.output<(typeof FACTS)[K]>, l: Links) => Composed } = {
  welcome: (f, l) => ({
    subject: "Welcome to MindRoom Cloud: your MindRoom is ready",
    greeting: `Hello ${f.name},`,
    blocks: [
      `Your MindRoom (${f.tier} plan) is running. Everything about it is in your dashboard.`,
      { label: "Your dashboard", href: `${l.portalUrl}/dashboard` },
      `How to sign in: open the portal's sign-in page and use ${f.email} with the password you chose when you signed up, or ask for a one-time code by email there.`,
      { label: "Sign in", href: `${l.portalUrl}/login` },
      "Your MindRoom, where you talk to your agents:",
      { label: f.urls.app, href: f.urls.app },
      `Your Matrix homeserver, for any Matrix client: ${f.urls.matrix}`,
    ],
  }),
  provisioning_delayed: (f, l) => ({
    subject: "Your MindRoom is taking longer than expected",
    greeting: `Hello ${f.name},`,
    blocks: [
      `Setting up your MindRoom (${f.slug}) hit a problem on ${formatDate(f.at)}. We are retrying automatically${f.nextAttemptAt ? `; the next attempt is due ${formatDate(f.nextAttemptAt)}` : ""}. You do not need to do anything, and we will email you when it is ready.`,
      { label: "Follow it in your dashboard", href: `${l.portalUrl}/dashboard` },
    ],
  }),
  provisioning_failed: (f, l) => ({
    subject: "We could not set up your MindRoom",
    greeting: `Hello ${f.name},`,
    blocks: [
      `Setting up your MindRoom (${f.slug}) failed on ${formatDate(f.at)}, after several attempts. Our operators have been alerted and will look at it; nothing is lost, and you will not be charged for time it was not running.`,
      { label: "Your dashboard", href: `${l.portalUrl}/dashboard` },
    ],
  }),
  payment_failed: (f, l) => ({
    subject: "Your payment for MindRoom Cloud failed",
    greeting: `Hello ${f.name},`,
    blocks: [
      `We could not take the payment for your ${f.tier} plan on ${formatDate(f.at)}${f.periodEnd ? ` (billing period ending ${formatDate(f.periodEnd)})` : ""}. Your MindRoom keeps running while the payment is retried.`,
      "Please update your payment method. If the retries fail too, your MindRoom is suspended (your data is kept).",
      { label: "Update your payment method", href: `${l.portalUrl}/billing` },
    ],
  }),
  suspended: (f, l) => ({
    subject: "Your MindRoom has been suspended",
    greeting: `Hello ${f.name},`,
    blocks: [
      `Your MindRoom (${f.slug}) was suspended on ${formatDate(f.at)}: ${
        f.cause === "payment"
          ? "its payment could not be taken."
          : f.cause === "hold"
            ? `our operators put it on hold (${f.reason ?? "no reason given"}).`
            : "its subscription is no longer active."
      } Your agents are stopped; all your data is kept.`,
      f.cause === "hold"
        ? "Reply to this email if you have questions about the hold."
        : "Settle the payment and it resumes within minutes.",
      {
        label: f.cause === "hold" ? "Your dashboard" : "Go to billing",
        href: `${l.portalUrl}/${f.cause === "hold" ? "dashboard" : "billing"}`,
      },
    ],
  }),
  resumed: (f, l) => ({
    subject: "Your MindRoom is running again",
    greeting: `Hello ${f.name},`,
    blocks: [
      `Your MindRoom (${f.slug}, ${f.tier} plan) is running again since ${formatDate(f.at)}, with all your data.`,
      ...(f.urls ? [{ label: f.urls.app, href: f.urls.app }] : []),
      { label: "Your dashboard", href: `${l.portalUrl}/dashboard` },
    ],
  }),
  deletion_scheduled: (f, l) => ({
    subject: `Your MindRoom will be deleted on ${formatDay(f.deletionDueAt)}`,
    greeting: `Hello ${f.name},`,
    blocks: [
      `Your subscription ended on ${formatDate(f.at)}, so your MindRoom (${f.slug}) is stopped. Its data is kept until ${formatDate(f.deletionDueAt)}; then it is deleted for good.`,
      "To keep it, subscribe again before that date. To take your data with you, export it from your account page.",
      { label: "Subscribe again", href: `${l.portalUrl}/billing` },
      { label: "Export your data", href: `${l.portalUrl}/account` },
    ],
  }),
  deleted: (f, l) => ({
    subject: "Your MindRoom has been deleted",
    greeting: `Hello ${f.name},`,
    blocks: [
      `Your MindRoom (${f.slug}) and its data were deleted on ${formatDate(f.at)}, as scheduled after your subscription ended. Thank you for using MindRoom Cloud.`,
      "You can start a new one at any time.",
      { label: "MindRoom Cloud", href: `${l.portalUrl}/` },
    ],
  }),
  data_export_ready: (f, l) => ({
    subject: "Your MindRoom Cloud data export is ready",
    greeting: `Hello ${f.name},`,
    blocks: [
      `The data export you asked for on ${formatDate(f.at)} is ready. Download it while signed in:`,
      { label: "Download your export", href: `${l.portalUrl}${f.path}` },
      "If you did not ask for it, sign in and change your password.",
    ],
  }),
  quota_warning: (f, l) => ({
    subject:
      f.percent >= 100
        ? `Your MindRoom has reached its ${METRIC_WORDS[f.metric]} limit`
        : `Your MindRoom has used ${f.percent} % of its ${METRIC_WORDS[f.metric]}`,
    greeting: `Hello ${f.name},`,
    blocks: [
      `On ${f.day}, your MindRoom (${f.slug}) used ${f.used} of the ${f.limit} of ${METRIC_WORDS[f.metric]} in your ${f.tier} plan (${f.percent} %).`,
      f.percent >= 100
        ? "It is at its limit: upgrade your plan or free some room to keep it working normally."
        : "Consider upgrading your plan before it reaches the limit.",
      { label: "See your usage", href: `${l.portalUrl}/usage` },
      { label: "Change your plan", href: `${l.portalUrl}/billing` },
    ],
  }),
};

function toText(c: Composed): string {
  const body = c.blocks.map((b) =>
    typeof b === "string" ? b : b.label === b.href ? b.href : `${b.label}: ${b.href}`,
  );
  return `${[c.greeting, ...body, "— MindRoom Cloud"].join("\n\n")}\n`;
}

function toHtml(c: Composed): string {
  const body = c.blocks
    .map((b) =>
      typeof b === "string"
        ? `<p style="margin:0 0 16px">${escapeHtml(b)}</p>`
        : `<p style="margin:0 0 16px"><a href="${escapeHtml(b.href)}" style="color:#1d4ed8">${escapeHtml(b.label)}</a></p>`,
    )
    .join("\n");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(c.subject)}</title></head>
<body style="font-family:system-ui,-apple-system,Segoe UI,sans-serif;font-size:16px;line-height:1.5;color:#111827;margin:0;padding:24px">
<main style="max-width:560px;margin:0 auto">
<p style="margin:0 0 16px">${escapeHtml(c.greeting)}</p>
${body}
<p style="margin:24px 0 0;color:#4b5563">— MindRoom Cloud</p>
</main>
</body></html>
`;
}

export class MailFactsError extends Error {
  override readonly name = "MailFactsError";
}

/** Renders one email; throws MailFactsError for an unknown kind or facts that do not fit it. */
export function renderMail(kind: string, facts: unknown, links: Links): RenderedMail {
  if (!isMailKind(kind)) throw new MailFactsError(`no email is defined for kind "${kind}"`);
  const parsed = FACTS[kind].safeParse(facts);
  if (!parsed.success)
    throw new MailFactsError(
      `facts for a ${kind} email do not fit: ${parsed.error.issues.map((i) => `${i.path.join(".")} ${i.message}`).join("; ")}`,
    );
  const compose = COMPOSE[kind] as (f: unknown, l: Links) => Composed;
  const composed = compose(parsed.data, links);
  return { subject: composed.subject, text: toText(composed), html: toHtml(composed) };
}
