/**
 * The email outbox (supabase/migrations/…_email_outbox.sql): decisions to
 * send an email, written in the transaction of the state change that causes
 * them, one per (customer, kind, event); and the sender's claim, sent mark
 * and retry bookkeeping.
 */
import { randomUUID } from "node:crypto";
import type { Queryable } from "./connection.ts";
import { type JsonObject, jsonb, parseJsonObject } from "./jsonColumns.ts";

export const EMAIL_STATUSES = ["pending", "sent", "failed"] as const;
export type EmailStatus = (typeof EMAIL_STATUSES)[number];

export interface OutboxEmail {
  readonly id: string;
  readonly customerId: string | null;
  readonly instanceId: string | null;
  readonly kind: string;
  readonly eventKey: string;
  readonly recipient: string;
  readonly facts: JsonObject;
  /** Set with the first attempt recorded (mail/outboxSender.ts derives it from the id). */
  readonly messageId: string | null;
  readonly status: EmailStatus;
  readonly attempts: number;
  readonly nextAttemptAt: Date;
  readonly lastError: string | null;
  readonly smtpResponse: string | null;
  readonly sentAt: Date | null;
  readonly createdAt: Date;
}

interface OutboxRow {
  id: string;
  customer_id: string | null;
  instance_id: string | null;
  kind: string;
  event_key: string;
  recipient: string;
  facts: unknown;
  message_id: string | null;
  status: EmailStatus;
  attempts: number;
  next_attempt_at: Date;
  last_error: string | null;
  smtp_response: string | null;
  sent_at: Date | null;
  created_at: Date;
}

function fromRow(row: OutboxRow): OutboxEmail {
  return {
    id: row.id,
    customerId: row.customer_id,
    instanceId: row.instance_id,
    kind: row.kind,
    eventKey: row.event_key,
    recipient: row.recipient,
    facts: parseJsonObject(row.facts, "email_outbox.facts") ?? {},
    messageId: row.message_id,
    status: row.status,
    attempts: row.attempts,
    nextAttemptAt: row.next_attempt_at,
    lastError: row.last_error,
    smtpResponse: row.smtp_response,
    sentAt: row.sent_at,
    createdAt: row.created_at,
  };
}

export interface NewOutboxEmail {
  readonly customerId: string | null;
  readonly instanceId?: string | null;
  /** `welcome`, `payment_failed`, … (mail/messages.ts names them). */
  readonly kind: string;
  /** What makes this email one of a kind for its customer: an operation id, a period, a date. */
  readonly eventKey: string;
  readonly recipient: string;
  readonly facts: JsonObject;
}

/**
 * Records the decision to send, on the caller's transaction. The same
 * (customer, kind, event) decided again changes nothing: `queued` is false.
 */
export async function queueEmail(
  db: Queryable,
  email: NewOutboxEmail,
): Promise<{ readonly queued: boolean; readonly id: string | null }> {
  const id = randomUUID();
  const { rows } = await db.query<{ id: string }>(
    `insert into public.email_outbox (id, customer_id, instance_id, kind, event_key, recipient, facts)
     values ($1, $2, $3, $4, $5, $6, $7::jsonb)
     on conflict on constraint email_outbox_one_per_event do nothing
     returning id`,
    [
      id,
      email.customerId,
      email.instanceId ?? null,
      email.kind,
      email.eventKey,
      email.recipient,
      jsonb(email.facts),
    ],
  );
  return { queued: rows.length > 0, id: rows[0]?.id ?? null };
}

/**
 * The oldest due pending email, locked for this transaction (others skip it),
 * or null. Call inside a transaction; commit after marking it. Due means by
 * the database's clock unless `now` is given.
 */
export async function claimDueEmail(tx: Queryable, now?: Date): Promise<OutboxEmail | null> {
  const { rows } = await tx.query<OutboxRow>(
    `select * from public.email_outbox
      where status = 'pending' and next_attempt_at <= coalesce($1::timestamptz, now())
      order by next_attempt_at, created_at
      limit 1
      for update skip locked`,
    [now ?? null],
  );
  return rows[0] ? fromRow(rows[0]) : null;
}

export async function markEmailSent(
  tx: Queryable,
  id: string,
  sent: { readonly messageId: string; readonly smtpResponse: string },
): Promise<void> {
  await tx.query(
    `update public.email_outbox
        set status = 'sent', sent_at = now(), attempts = attempts + 1, message_id = $2,
            smtp_response = $3, last_error = null
      where id = $1`,
    [id, sent.messageId, sent.smtpResponse.slice(0, 500)],
  );
}

/** A failed attempt: retried at `retryAt`, or given up (`failed`) when `retryAt` is null. */
export async function markEmailAttemptFailed(
  tx: Queryable,
  id: string,
  attempt: { readonly messageId: string; readonly error: string; readonly retryAt: Date | null },
): Promise<void> {
  await tx.query(
    `update public.email_outbox
        set attempts = attempts + 1, message_id = $2, last_error = $3,
            status = case when $4::timestamptz is null then 'failed' else 'pending' end,
            next_attempt_at = coalesce($4::timestamptz, next_attempt_at)
      where id = $1`,
    [id, attempt.messageId, attempt.error.slice(0, 2000), attempt.retryAt],
  );
}

/** Emails for a customer (or all, with `customerId` null), newest first. */
export async function listEmails(
  db: Queryable,
  filter: {
    readonly customerId?: string | null;
    readonly status?: EmailStatus;
    readonly limit?: number;
  } = {},
): Promise<OutboxEmail[]> {
  const { rows } = await db.query<OutboxRow>(
    `select * from public.email_outbox
      where ($1::uuid is null or customer_id = $1) and ($2::text is null or status = $2)
      order by created_at desc, id
      limit $3`,
    [filter.customerId ?? null, filter.status ?? null, filter.limit ?? 100],
  );
  return rows.map(fromRow);
}
