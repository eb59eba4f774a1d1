/**
 * Drift checks on a schedule (`MINDROOM_DRIFT_INTERVAL`, default 6 h; `0s`
 * turns it off): every provisioned tenant's stack is checked against its Dokku
 * host, first by the batched check (automation/fleetDrift.ts: the checkpoints
 * read in one pass, a few SSH sessions per host), then, for the tenants it found
 * something on or could not decide, through the automation layer's worker pool
 * (a refresh preview plus read-only Dokku probes, automation/tenantDrift.ts),
 * one tenant at a time so reconciles keep the rest of the pool. Each check is recorded as a `drift`
 * operation (trigger `schedule`) whose changes carry the findings: the operator
 * console's drift column and the `mindroom_tenant_drift` gauge read them, and
 * the tenant's next `up` repairs exactly what was found. A check runs under
 * the tenant's lease, taken before it is recorded: a tenant another holder is
 * working on (a reconcile on any machine) is skipped until the next round, and
 * the recorded check names its lease, so no reconcile takes it for one
 * interrupted while it runs.
 */
import type pg from "pg";
import type { BatchedDrift } from "../automation/fleetDrift.ts";
import type { OperationResult } from "../automation/operationResult.ts";
import { TenantBusyError, type TenantLease } from "../automation/tenantLease.ts";
import { finishOperation, startOperation } from "../database/operations.ts";
import type { Logger } from "../logging/logger.ts";

export const DRIFT_QUEUE = "drift-schedule";

export interface DriftScheduleDeps {
  readonly db: { readonly pool: pg.Pool };
  readonly operations: {
    readonly pool: {
      run(kind: "drift", tenant: string, options: { lease: TenantLease }): Promise<OperationResult>;
    };
    readonly leases: { acquire(tenant: string, operation: string): Promise<TenantLease> };
    batchedDrift(tenants: readonly string[]): Promise<BatchedDrift>;
    recordDrift(tenant: string, result: OperationResult): void;
  };
  readonly log: Logger;
}

export interface DriftRun {
  readonly checked: number;
  readonly drifted: readonly string[];
  readonly failed: readonly string[];
  /** Tenants another holder was working on: checked next round. */
  readonly busy: readonly string[];
}

export async function checkDrift(deps: DriftScheduleDeps): Promise<DriftRun> {
  // Provisioned and not mid-change: a tenant being created or deleted has nothing settled to compare.
  const { rows } = await deps.db.pool.query<{ id: string; slug: string; spec_hash: string | null }>(
    `select id, slug, spec_hash from public.instances
      where actual_state in ('running', 'suspended', 'failed') and applied_spec_hash is not null
      order by slug`,
  );
  const drifted: string[] = [];
  const failed: string[] = [];
  const busy: string[] = [];
  // Read-only and lease-free: a tenant changed since is found busy below, or checked again next round.
  const batch = await deps.operations.batchedDrift(rows.map((r) => r.slug));
  for (const row of rows) {
    let lease: TenantLease;
    try {
      lease = await deps.operations.leases.acquire(row.slug, "drift");
    } catch (error) {
      if (!(error instanceof TenantBusyError)) throw error;
      busy.push(row.slug);
      continue;
    }
    try {
      const outcome = await checkOne(deps, row, lease, batch.clean.get(row.slug));
      if (outcome === "failed") failed.push(row.slug);
      else if (outcome === "drifted") drifted.push(row.slug);
    } finally {
      await lease.release();
    }
  }
  deps.log.info("scheduled drift check finished", {
    checked: rows.length,
    batched: batch.clean.size,
    sessions: batch.sessions,
    drifted,
    failed,
    busy,
  });
  return { checked: rows.length, drifted, failed, busy };
}

async function checkOne(
  deps: DriftScheduleDeps,
  row: { id: string; slug: string; spec_hash: string | null },
  lease: TenantLease,
  /** The batched check's result when it found the tenant clean; otherwise the pool checks it. */
  clean: OperationResult | undefined,
): Promise<"failed" | "drifted" | "clean"> {
  const operation = await startOperation(deps.db.pool, {
    leaseHolder: lease.holder,
    instanceId: row.id,
    kind: "drift",
    trigger: "schedule",
    reason: "scheduled drift check",
    specHash: row.spec_hash,
    latest: false,
  });
  let result: OperationResult;
  try {
    result = clean ?? (await deps.operations.pool.run("drift", row.slug, { lease }));
  } catch (error) {
    await finishOperation(deps.db.pool, operation.id, {
      status: "failed",
      error: (error as Error).message,
    });
    return "failed";
  }
  deps.operations.recordDrift(row.slug, result);
  const findings = result.drift ?? [];
  await finishOperation(deps.db.pool, operation.id, {
    status: result.status,
    changes: { ...result.changes, drift: findings.map((f) => ({ ...f })) },
    error: result.error ? `${result.error.kind}: ${result.error.message}` : null,
  });
  if (result.status !== "succeeded") return "failed";
  return findings.length > 0 ? "drifted" : "clean";
}
