/**
 * The portal's handle on the reconcile queue (webhooks/queue.ts). Requests never run Pulumi: a
 * customer's restart or an operator's "reconcile now" becomes a queued job, written in the same
 * transaction as its audit row so neither exists without the other.
 */
import type pg from "pg";
import { audit, type NewAuditEntry } from "../../../database/auditLog.ts";
import { transaction } from "../../../database/transaction.ts";
import { openReconcileQueue, type ReconcileQueue, type ReconcileRequest } from "../../../webhooks/queue.ts";
import { servicePool } from "./database.ts";
import { currentRequestId } from "./requestLog.ts";
import { portalSettings } from "./settings.ts";

let opening: Promise<ReconcileQueue> | undefined;

export function reconcileQueue(): Promise<ReconcileQueue> {
  opening ??= openReconcileQueue({ url: portalSettings().databaseUrl }, { poolSize: 2 }).catch((error) => {
    opening = undefined;
    throw error;
  });
  return opening;
}

/**
 * Audit and enqueue atomically, with the change the job is about (an operator's hold, a restart
 * request) written in the same transaction: the worker reads it as an input to the desired state.
 */
export async function auditAndEnqueue(
  entry: NewAuditEntry,
  job: ReconcileRequest,
  change?: (tx: pg.PoolClient) => Promise<unknown>,
): Promise<void> {
  const queue = await reconcileQueue();
  // On the service connection (the owner role): the caller has checked who may do this.
  const requestId = job.requestId ?? currentRequestId();
  await transaction(servicePool(), async (tx) => {
    await change?.(tx);
    await audit(tx, entry);
    await queue.enqueue({ ...job, ...(requestId ? { requestId } : {}) }, tx);
  });
}
