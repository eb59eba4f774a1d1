/**
 * An operator's action on one tenant (a backup, a restore, a move, a stack
 * rebuilt), recorded the way reconciles are: under the tenant's lease
 * (automation/tenantLease.ts: no reconcile on any machine touches it
 * meanwhile), as an operations row naming that lease, with live progress and
 * its result, and an audit row saying who did what and why, failed or not.
 */
import type pg from "pg";
import type { TenantLease, TenantLeases } from "../automation/tenantLease.ts";
import { type AuditActor, audit } from "../database/auditLog.ts";
import type { Instance } from "../database/instances.ts";
import type { JsonObject } from "../database/jsonColumns.ts";
import {
  finishOperation,
  type OperationKind,
  recordProgress,
  startOperation,
} from "../database/operations.ts";

export interface OperatorAction {
  readonly slug: string;
  /** The tenant's row; null for a tenant the platform database does not know (made with `apply`). */
  readonly instance: Instance | null;
  readonly kind: Extract<OperationKind, "backup" | "restore" | "move" | "import">;
  readonly actor: AuditActor;
  readonly reason: string;
}

export async function recordedAction<T extends JsonObject>(
  pool: pg.Pool,
  leases: Pick<TenantLeases, "acquire">,
  action: OperatorAction,
  /**
   * `lost` is aborted when the lease is lost (the database unreachable): stop at the next step.
   * `lease` is for the worker pool's operations run inside the action (RunOptions.lease).
   */
  run: (progress: (message: string) => void, lost: AbortSignal, lease: TenantLease) => Promise<T>,
  waitMs = 15 * 60_000,
): Promise<T> {
  const { instance } = action;
  // A reconcile running on the tenant finishes first (up to the operation timeout).
  const lease = await leases.acquire(action.slug, action.kind, { waitMs });
  try {
    const operation = instance
      ? await startOperation(pool, {
          leaseHolder: lease.holder,
          instanceId: instance.id,
          kind: action.kind,
          trigger: "operator",
          requestedBy: action.actor,
          reason: action.reason,
          specHash: instance.specHash,
        })
      : null;
    const progress = (message: string) => {
      if (operation) void recordProgress(pool, operation.id, { message }).catch(() => undefined);
    };
    const base = {
      actor: action.actor,
      customerId: instance?.customerId ?? null,
      instanceId: instance?.id ?? null,
    };
    try {
      const details = await run(progress, lease.lost, lease);
      if (operation) await finishOperation(pool, operation.id, { status: "succeeded", changes: details });
      await audit(pool, {
        ...base,
        action: `instance.${action.kind}`,
        reason: action.reason,
        details: { slug: action.slug, ...details, operationId: operation?.id ?? null },
      });
      return details;
    } catch (error) {
      const message = (error as Error).message;
      if (operation) await finishOperation(pool, operation.id, { status: "failed", error: message });
      await audit(pool, {
        ...base,
        action: `instance.${action.kind}.failed`,
        reason: `${action.reason}: ${message}`.slice(0, 2000),
        details: { slug: action.slug, operationId: operation?.id ?? null },
      });
      throw error;
    }
  } finally {
    await lease.release();
  }
}
