/**
 * Drift checks on a schedule (`MINDROOM_DRIFT_INTERVAL`, default 6 h; `0s`
 * turns it off): every provisioned tenant's stack is checked against its Dokku
 * host through the automation layer's worker pool (a refresh preview plus
 * read-only Dokku probes, automation/tenantDrift.ts), one tenant at a time so
 * reconciles keep the rest of the pool. Each check is recorded as a `drift`
 * operation (trigger `schedule`) whose changes carry the findings: the operator
 * console's drift column and the `mindroom_tenant_drift` gauge read them, and
 * the tenant's next `up` repairs exactly what was found.
 */
import type pg from "pg";
import type { OperationResult } from "../automation/operationResult.ts";
import { finishOperation, startOperation } from "../database/operations.ts";
import type { Logger } from "../logging/logger.ts";

export const DRIFT_QUEUE = "drift-schedule";

export interface DriftScheduleDeps {
  readonly db: { readonly pool: pg.Pool };
  readonly operations: {
    readonly pool: { run(kind: "drift", tenant: string): Promise<OperationResult> };
    recordDrift(tenant: string, result: OperationResult): void;
  };
  readonly log: Logger;
}

export interface DriftRun {
  readonly checked: number;
  readonly drifted: readonly string[];
  readonly failed: readonly string[];
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
  for (const row of rows) {
    const operation = await startOperation(deps.db.pool, {
      instanceId: row.id,
      kind: "drift",
      trigger: "schedule",
      reason: "scheduled drift check",
      specHash: row.spec_hash,
      latest: false,
    });
    let result: OperationResult;
    try {
      result = await deps.operations.pool.run("drift", row.slug);
    } catch (error) {
      await finishOperation(deps.db.pool, operation.id, {
        status: "failed",
        error: (error as Error).message,
      });
      failed.push(row.slug);
      continue;
    }
    deps.operations.recordDrift(row.slug, result);
    const findings = result.drift ?? [];
    await finishOperation(deps.db.pool, operation.id, {
      status: result.status,
      changes: { ...result.changes, drift: findings.map((f) => ({ ...f })) },
      error: result.error ? `${result.error.kind}: ${result.error.message}` : null,
    });
    if (result.status !== "succeeded") failed.push(row.slug);
    else if (findings.length > 0) drifted.push(row.slug);
  }
  deps.log.info("scheduled drift check finished", { checked: rows.length, drifted, failed });
  return { checked: rows.length, drifted, failed };
}
