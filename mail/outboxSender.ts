/**
 * The outbox sender: drains due rows of `email_outbox` one at a time, each in
 * its own transaction that holds the row's lock while the message goes out
 * over SMTP and marks it sent before committing. Any number of senders can
 * run (they skip each other's locked rows).
 *
 * Delivery guarantee: a decided email is sent at least once (a row stays
 * pending until a commit marks it sent: a sender killed at any point leaves
 * it for the next one), and at most once per event (the outbox's unique key).
 * The one window for a repeat is a sender killed after the SMTP server
 * accepted the message and before the commit; the repeat carries the same
 * Message-ID (derived from the row), which mail clients and Mailpit
 * (`--ignore-duplicate-ids`) use to show it once.
 */
import type pg from "pg";
import {
  claimDueEmail,
  markEmailAttemptFailed,
  markEmailSent,
  type OutboxEmail,
} from "../database/emailOutbox.ts";
import { transaction } from "../database/transaction.ts";
import { type Links, MailFactsError, renderMail } from "./messages.ts";
import { MailDeliveryError, type Mailer } from "./transport.ts";

export interface SenderLog {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export interface OutboxSenderDeps {
  readonly pool: pg.Pool;
  readonly mailer: Mailer;
  readonly links: Links;
  /** The Message-ID's domain (the sender address's). */
  readonly messageDomain: string;
  readonly log: SenderLog;
  /** Attempts before a row is given up as failed (default 8: about a day of backoff). */
  readonly maxAttempts?: number;
  readonly now?: () => Date;
}

/** `<id.kind@domain>`: the same for every attempt at one row. */
export function messageIdFor(email: Pick<OutboxEmail, "id" | "kind">, domain: string): string {
  return `<${email.id}.${email.kind.replaceAll("_", "-")}@${domain}>`;
}

/** Exponential backoff from 30 s, capped at 6 h. */
export function retryDelayMs(attempt: number): number {
  return Math.min(30_000 * 2 ** Math.max(0, attempt - 1), 6 * 3600_000);
}

export interface DrainResult {
  readonly sent: number;
  readonly failed: number;
}

/** Sends what is due now, at most `limit` rows; returns what happened. */
export async function sendDueEmails(deps: OutboxSenderDeps, limit = 50): Promise<DrainResult> {
  let sent = 0;
  let failed = 0;
  for (let i = 0; i < limit; i += 1) {
    const outcome = await transaction(deps.pool, async (tx) => {
      const email = await claimDueEmail(tx, deps.now?.());
      if (!email) return "empty" as const;
      return sendOne(deps, tx, email);
    });
    if (outcome === "empty") break;
    if (outcome === "sent") sent += 1;
    else failed += 1;
  }
  return { sent, failed };
}

async function sendOne(
  deps: OutboxSenderDeps,
  tx: pg.PoolClient,
  email: OutboxEmail,
): Promise<"sent" | "failed"> {
  const messageId = messageIdFor(email, deps.messageDomain);
  const fields = { email: email.id, kind: email.kind, customer: email.customerId, messageId };
  try {
    const rendered = renderMail(email.kind, email.facts, deps.links);
    const result = await deps.mailer.send({
      to: email.recipient,
      ...rendered,
      messageId,
      headers: { "X-MindRoom-Kind": email.kind },
    });
    await markEmailSent(tx, email.id, { messageId, smtpResponse: result.response });
    deps.log.info("email sent", fields);
    return "sent";
  } catch (error) {
    const attempt = email.attempts + 1;
    // Facts that do not render and 5xx refusals will not get better by waiting.
    const permanent =
      error instanceof MailFactsError || (error instanceof MailDeliveryError && error.permanent);
    const giveUp = permanent || attempt >= (deps.maxAttempts ?? 8);
    const now = deps.now?.() ?? new Date();
    const retryAt = giveUp ? null : new Date(now.getTime() + retryDelayMs(attempt));
    await markEmailAttemptFailed(tx, email.id, { messageId, error: (error as Error).message, retryAt });
    const details = { ...fields, attempt, error, ...(retryAt ? { retryAt: retryAt.toISOString() } : {}) };
    if (giveUp) deps.log.error("email given up", details);
    else deps.log.warn("email send failed, will retry", details);
    return "failed";
  }
}

export interface OutboxSender {
  /** Drain now instead of at the next tick (e.g. right after queueing). */
  wake(): void;
  /** Stops after the drain in progress. */
  stop(): Promise<void>;
}

/** Drains the outbox every `intervalMs` (default 1 s) until stopped. */
export function startOutboxSender(
  deps: OutboxSenderDeps,
  options: { intervalMs?: number } = {},
): OutboxSender {
  const interval = options.intervalMs ?? 1000;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  const tick = () => {
    timer = undefined;
    running = sendDueEmails(deps)
      .then(() => undefined)
      .catch((error: unknown) => deps.log.error("outbox drain failed", { error }))
      .finally(() => {
        if (!stopped) timer = setTimeout(tick, interval);
      });
  };
  timer = setTimeout(tick, 0);
  return {
    wake() {
      if (stopped || !timer) return;
      clearTimeout(timer);
      timer = setTimeout(tick, 0);
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
    },
  };
}
