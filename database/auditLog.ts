/**
 * The audit log: every state-changing action, by whom and why. Append-only
 * from the application's side; rows carry ids but no foreign keys, so the
 * history outlives the customers and instances it mentions.
 */
import { z } from "zod";
import type { Queryable } from "./connection.ts";
import { type JsonObject, jsonb, parseJsonObject } from "./jsonColumns.ts";

/** 'stripe', 'worker', 'sweep', 'operator:<email>' or 'customer:<email>'. */
export const auditActor = z
  .string()
  .regex(
    /^(stripe|worker|sweep|(operator|customer):\S+)$/,
    "actor must be stripe, worker, sweep, operator:<email> or customer:<email>",
  );
export type AuditActor = z.infer<typeof auditActor>;

/** The person running an operator CLI: `operator:<MINDROOM_OPERATOR or login name>`. */
export function cliOperator(env: NodeJS.ProcessEnv = process.env): AuditActor {
  const name = env.MINDROOM_OPERATOR?.trim() || process.getBuiltinModule("node:os").userInfo().username;
  return `operator:${name.replace(/\s+/g, "_")}`;
}

export interface AuditEntry {
  readonly id: number;
  readonly at: Date;
  readonly actor: string;
  readonly actorUserId: string | null;
  readonly customerId: string | null;
  readonly instanceId: string | null;
  readonly action: string;
  readonly reason: string | null;
  readonly details: JsonObject | null;
}

interface AuditRow {
  id: string;
  at: Date;
  actor: string;
  actor_user_id: string | null;
  customer_id: string | null;
  instance_id: string | null;
  action: string;
  reason: string | null;
  details: unknown;
}

function fromRow(row: AuditRow): AuditEntry {
  return {
    id: Number(row.id),
    at: row.at,
    actor: row.actor,
    actorUserId: row.actor_user_id,
    customerId: row.customer_id,
    instanceId: row.instance_id,
    action: row.action,
    reason: row.reason,
    details: parseJsonObject(row.details, "audit_log.details"),
  };
}

export interface NewAuditEntry {
  readonly actor: AuditActor;
  /** What happened, dotted: `instance.suspend`, `customer.cancel`, `operator.retry`, … */
  readonly action: string;
  readonly actorUserId?: string | null;
  readonly customerId?: string | null;
  readonly instanceId?: string | null;
  readonly reason?: string | null;
  readonly details?: JsonObject | null;
}

export async function audit(db: Queryable, entry: NewAuditEntry): Promise<AuditEntry> {
  const actor = auditActor.parse(entry.actor);
  const { rows } = await db.query<AuditRow>(
    `insert into public.audit_log (actor, actor_user_id, customer_id, instance_id, action, reason, details)
     values ($1, $2, $3, $4, $5, $6, $7::jsonb)
     returning *`,
    [
      actor,
      entry.actorUserId ?? null,
      entry.customerId ?? null,
      entry.instanceId ?? null,
      entry.action,
      entry.reason ?? null,
      jsonb(entry.details),
    ],
  );
  return fromRow(rows[0] as AuditRow);
}

/** An instance's audit trail, newest first. */
export async function auditForInstance(
  db: Queryable,
  instanceId: string,
  limit = 100,
): Promise<AuditEntry[]> {
  const { rows } = await db.query<AuditRow>(
    "select * from public.audit_log where instance_id = $1 order by at desc, id desc limit $2",
    [instanceId, limit],
  );
  return rows.map(fromRow);
}

/** A customer's audit trail, newest first. */
export async function auditForCustomer(
  db: Queryable,
  customerId: string,
  limit = 100,
): Promise<AuditEntry[]> {
  const { rows } = await db.query<AuditRow>(
    "select * from public.audit_log where customer_id = $1 order by at desc, id desc limit $2",
    [customerId, limit],
  );
  return rows.map(fromRow);
}
