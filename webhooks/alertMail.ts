/**
 * Critical alerts by email: the receiver Alertmanager's `operators-mail` route
 * posts to (ops/alertmanager/alertmanager.yml, `POST /alerts` on the webhook
 * service's internal listener). The payload is Alertmanager's webhook format
 * (version 4), parsed here at the edge; every critical alert in it, firing or
 * resolved, goes to every operator (their sign-in addresses) in one message
 * through the platform's mailer. A delivery failure answers 503, so
 * Alertmanager sends the group again; a payload that does not parse answers
 * 400 and sends nothing.
 */
import { createHash } from "node:crypto";
import type pg from "pg";
import { z } from "zod";
import { escapeHtml } from "../mail/messages.ts";
import type { Mailer } from "../mail/transport.ts";

const alert = z.object({
  status: z.enum(["firing", "resolved"]),
  labels: z.record(z.string(), z.string()),
  annotations: z.record(z.string(), z.string()).default({}),
  startsAt: z.string(),
  endsAt: z.string().optional(),
  generatorURL: z.string().optional(),
  fingerprint: z.string().optional(),
});

export const alertmanagerPayload = z.object({
  version: z.literal("4"),
  groupKey: z.string(),
  status: z.enum(["firing", "resolved"]),
  receiver: z.string(),
  externalURL: z.string().optional(),
  alerts: z.array(alert).max(1000),
});
export type AlertmanagerPayload = z.infer<typeof alertmanagerPayload>;
export type Alert = z.infer<typeof alert>;

export interface AlertMail {
  readonly subject: string;
  readonly text: string;
  readonly html: string;
}

/** One line per alert: what, where, since when, and the runbook. */
function describe(a: Alert): string[] {
  const where = ["tenant", "host", "app"]
    .filter((k) => a.labels[k])
    .map((k) => `${k} ${a.labels[k]}`)
    .join(", ");
  return [
    `${a.status === "resolved" ? "RESOLVED" : "FIRING"}: ${a.labels.alertname ?? "unnamed alert"}${where ? ` (${where})` : ""}`,
    ...(a.annotations.summary ? [`  ${a.annotations.summary}`] : []),
    ...(a.annotations.description ? [`  ${a.annotations.description}`] : []),
    `  since ${a.startsAt}${a.status === "resolved" && a.endsAt ? `, resolved ${a.endsAt}` : ""}`,
    ...(a.annotations.runbook_url ? [`  runbook: ${a.annotations.runbook_url}`] : []),
  ];
}

/** The critical alerts of a group as one email, or undefined when none is critical. Pure. */
export function criticalAlertMail(payload: AlertmanagerPayload): AlertMail | undefined {
  const critical = payload.alerts.filter((a) => a.labels.severity === "critical");
  if (critical.length === 0) return undefined;
  const firing = critical.filter((a) => a.status === "firing");
  const names = [...new Set(critical.map((a) => a.labels.alertname ?? "unnamed alert"))].join(", ");
  const subject = `[MindRoom ${firing.length > 0 ? `CRITICAL, ${firing.length} firing` : "resolved"}] ${names}`;
  const blocks = critical.map(describe);
  const text = [
    "Critical alerts on MindRoom Cloud:",
    "",
    ...blocks.flatMap((b) => [...b, ""]),
    ...(payload.externalURL ? [`Alertmanager: ${payload.externalURL}`] : []),
  ].join("\n");
  const html = `<p>Critical alerts on MindRoom Cloud:</p>${blocks
    .map((b) => `<p>${b.map((line) => escapeHtml(line.trim())).join("<br>")}</p>`)
    .join("")}${
    payload.externalURL
      ? `<p>Alertmanager: <a href="${escapeHtml(payload.externalURL)}">${escapeHtml(payload.externalURL)}</a></p>`
      : ""
  }`;
  return { subject: subject.replace(/[\r\n]+/g, " ").slice(0, 250), text, html };
}

/** Everyone with operator rights, by their sign-in address. */
export async function operatorAddresses(pool: pg.Pool): Promise<string[]> {
  const { rows } = await pool.query<{ email: string }>(
    `select distinct u.email from public.operators o join auth.users u on u.id = o.user_id
      where u.email is not null order by u.email`,
  );
  return rows.map((r) => r.email);
}

export interface AlertReceiverDeps {
  readonly pool: pg.Pool;
  /** The platform's mailer, or undefined when this process has none (no worker, no mail). */
  readonly mailer: () => Mailer | undefined;
  /** The sender's domain, for Message-IDs. */
  readonly messageDomain: string;
}

export interface AlertReceipt {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

/** Handles one POST /alerts body. */
export async function receiveAlerts(deps: AlertReceiverDeps, raw: string): Promise<AlertReceipt> {
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    return { status: 400, body: { error: "the body is not JSON: expected Alertmanager's webhook payload" } };
  }
  const parsed = alertmanagerPayload.safeParse(json);
  if (!parsed.success)
    return {
      status: 400,
      body: {
        error: `not an Alertmanager webhook payload (version 4): ${parsed.error.issues[0]?.path.join(".")} ${parsed.error.issues[0]?.message}`,
      },
    };
  const mail = criticalAlertMail(parsed.data);
  if (!mail) return { status: 200, body: { mailed: 0 } };
  const mailer = deps.mailer();
  if (!mailer)
    return { status: 503, body: { error: "this process has no mailer (start it with its worker)" } };
  const to = await operatorAddresses(deps.pool);
  if (to.length === 0) return { status: 200, body: { mailed: 0, warning: "no operators to mail" } };
  // The same group in the same state is the same message: a resend is recognised as a repeat.
  const digest = createHash("sha256")
    .update(`${parsed.data.groupKey}\n${mail.subject}\n${mail.text}`)
    .digest("hex")
    .slice(0, 24);
  try {
    for (const address of to)
      await mailer.send({
        to: address,
        ...mail,
        messageId: `<alert-${digest}@${deps.messageDomain}>`,
        headers: { "X-MindRoom-Kind": "critical_alert" },
      });
  } catch (error) {
    return { status: 503, body: { error: `mail delivery failed: ${(error as Error).message}` } };
  }
  return { status: 200, body: { mailed: to.length } };
}
