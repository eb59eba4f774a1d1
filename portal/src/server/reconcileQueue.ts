/**
 * The portal's handle on the reconcile queue (webhooks/queue.ts). Requests never run Pulumi: a
 * customer's restart or an operator's "reconcile now" becomes a queued job, written in the same
 * transaction as its audit row so neither exists without the other.
 */
import type pg from "pg";
import { openReconcileQueue, type ReconcileQueue, type ReconcileRequest } from "../../../webhooks/queue.ts";
import { servicePool } from "./database.ts";
import { portalSettings } from "./settings.ts";

let opening: Promise<ReconcileQueue> | undefined;

export function reconcileQueue(): Promise<ReconcileQueue> {
  opening ??= openReconcileQueue({ url: portalSettings().databaseUrl }, { poolSize: 2 }).catch((error) => {
    opening = undefined;
    throw error;
  });
  return opening;
}

export interface AuditEntry {
  readonly actor: string;
  readonly actorUserId: string;
  readonly customerId: string | null;
  readonly instanceId: string | null;
  readonly action: string;
  readonly reason: string | null;
  readonly details?: Record<string, unknown>;
}

export async function writeAudit(db: pg.PoolClient | pg.Pool, entry: AuditEntry): Promise<void> {
  await db.query(
    `insert into public.audit_log (actor, actor_user_id, customer_id, instance_id, action, reason, details)
     values ($1, $2, $3, $4, $5, $6, $7)`,
    [
      entry.actor,
      entry.actorUserId,
      entry.customerId,
      entry.instanceId,
      entry.action,
      entry.reason,
      entry.details ? JSON.stringify(entry.details) : null,
    ],
  );
}

/** Run `fn` in one service-role transaction (audit rows, queue jobs, operator writes). */
export async function inServiceTransaction<T>(fn: (tx: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await servicePool().connect();
  try {
    await client.query("begin");
    const result = await fn(client);
    await client.query("commit");
    return result;
  } catch (error) {
    await client.query("rollback").catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

/** Audit and enqueue atomically. */
export async function auditAndEnqueue(entry: AuditEntry, job: ReconcileRequest): Promise<void> {
  const queue = await reconcileQueue();
  await inServiceTransaction(async (tx) => {
    await writeAudit(tx, entry);
    await queue.enqueue(job, tx);
  });
}
