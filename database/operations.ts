/**
 * Operations: one row per reconcile of an instance (up, destroy, preview,
 * refresh, drift check) and per operator or scheduled action on it (backup,
 * restore, move to another host, import of a lost stack), with who asked and
 * why, live progress, and the result.
 * Times come from `clock_timestamp()`, not `now()`, so an operation started and
 * finished inside one transaction still gets its real duration.
 */
import { z } from "zod";
import type { Queryable } from "./connection.ts";
import { type JsonObject, jsonb, parseJsonObject } from "./jsonColumns.ts";

export const OPERATION_KINDS = [
  "up",
  "destroy",
  "preview",
  "refresh",
  "drift",
  "backup",
  "restore",
  "move",
  "import",
] as const;
export type OperationKind = (typeof OPERATION_KINDS)[number];
export const OPERATION_TRIGGERS = ["stripe", "sweep", "operator", "customer", "retry", "schedule"] as const;
export type OperationTrigger = (typeof OPERATION_TRIGGERS)[number];
export const OPERATION_STATUSES = ["queued", "running", "succeeded", "failed", "cancelled"] as const;
export type OperationStatus = (typeof OPERATION_STATUSES)[number];
export type FinishedStatus = Extract<OperationStatus, "succeeded" | "failed" | "cancelled">;

/** The latest progress summary, as the portal shows it. */
export const operationProgress = z.object({
  step: z.string().optional(),
  done: z.number().int().nonnegative().optional(),
  total: z.number().int().nonnegative().optional(),
  message: z.string().optional(),
});
export type OperationProgress = z.infer<typeof operationProgress>;

export interface Operation {
  readonly id: string;
  readonly instanceId: string;
  readonly kind: OperationKind;
  readonly trigger: OperationTrigger;
  readonly requestedBy: string | null;
  /** The request that caused it (webhook delivery or portal request), as its logs name it. */
  readonly requestId: string | null;
  readonly reason: string | null;
  readonly specHash: string | null;
  readonly status: OperationStatus;
  readonly progress: OperationProgress | null;
  readonly changes: JsonObject | null;
  readonly outputs: JsonObject | null;
  readonly error: string | null;
  readonly startedAt: Date | null;
  readonly finishedAt: Date | null;
  readonly durationMs: number | null;
  readonly createdAt: Date;
  /** The tenant lease it ran under (automation.tenant_leases): while that is held, it is not interrupted. */
  readonly leaseHolder: string | null;
}

interface OperationRow {
  id: string;
  instance_id: string;
  kind: OperationKind;
  trigger: OperationTrigger;
  requested_by: string | null;
  request_id: string | null;
  reason: string | null;
  spec_hash: string | null;
  status: OperationStatus;
  progress: unknown;
  changes: unknown;
  outputs: unknown;
  error: string | null;
  started_at: Date | null;
  finished_at: Date | null;
  duration_ms: number | null;
  created_at: Date;
  lease_holder: string | null;
}

export class OperationStateError extends Error {
  override readonly name = "OperationStateError";
}

function fromRow(row: OperationRow): Operation {
  return {
    id: row.id,
    instanceId: row.instance_id,
    kind: row.kind,
    trigger: row.trigger,
    requestedBy: row.requested_by,
    requestId: row.request_id,
    reason: row.reason,
    specHash: row.spec_hash,
    status: row.status,
    progress: row.progress === null ? null : operationProgress.parse(row.progress),
    changes: parseJsonObject(row.changes, "operations.changes"),
    outputs: parseJsonObject(row.outputs, "operations.outputs"),
    error: row.error,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    durationMs: row.duration_ms,
    createdAt: row.created_at,
    leaseHolder: row.lease_holder,
  };
}

export interface NewOperation {
  readonly instanceId: string;
  readonly kind: OperationKind;
  readonly trigger: OperationTrigger;
  readonly requestedBy?: string | null;
  readonly requestId?: string | null;
  readonly reason?: string | null;
  readonly specHash?: string | null;
  /** `running` (default) starts the clock now; `queued` waits for `recordProgress`. */
  readonly status?: Extract<OperationStatus, "queued" | "running">;
  /**
   * Make it the instance's `last_operation_id` (default true): what the customer sees as their
   * instance's latest change. Checks that change nothing (a scheduled drift check) pass false.
   */
  readonly latest?: boolean;
  /** The tenant lease the operation runs under. */
  readonly leaseHolder?: string | null;
}

/** Records a new operation and (unless `latest: false`) makes it the instance's `last_operation_id`, in one statement. */
export async function startOperation(db: Queryable, input: NewOperation): Promise<Operation> {
  const status = input.status ?? "running";
  const { rows } = await db.query<OperationRow>(
    `with operation as (
       insert into public.operations (instance_id, kind, "trigger", requested_by, reason, spec_hash, status, started_at, request_id, lease_holder)
       values ($1, $2, $3, $4, $5, $6, $7, case when $7 = 'running' then clock_timestamp() end, $9, $10)
       returning *
     ), latest as (
       update public.instances i set last_operation_id = operation.id
       from operation where i.id = operation.instance_id and $8
     )
     select * from operation`,
    [
      input.instanceId,
      input.kind,
      input.trigger,
      input.requestedBy ?? null,
      input.reason ?? null,
      input.specHash ?? null,
      status,
      input.latest ?? true,
      input.requestId ?? null,
      input.leaseHolder ?? null,
    ],
  );
  return fromRow(rows[0] as OperationRow);
}

/**
 * Stores the latest progress summary of a running operation (a queued one
 * becomes running). Progress for a finished operation is ignored: a late
 * event must not reopen it.
 */
export async function recordProgress(
  db: Queryable,
  operationId: string,
  progress: OperationProgress,
): Promise<void> {
  await db.query(
    `update public.operations set
       progress = $2::jsonb,
       status = 'running',
       started_at = coalesce(started_at, clock_timestamp())
     where id = $1 and status in ('queued', 'running')`,
    [operationId, jsonb(operationProgress.parse(progress))],
  );
}

export interface OperationResult {
  readonly status: FinishedStatus;
  readonly changes?: JsonObject | null;
  readonly outputs?: JsonObject | null;
  readonly error?: string | null;
}

/** Finishes a queued or running operation; finishing one twice is an error (two workers on one tenant). */
export async function finishOperation(
  db: Queryable,
  operationId: string,
  result: OperationResult,
): Promise<Operation> {
  const { rows } = await db.query<OperationRow>(
    `update public.operations set
       status = $2,
       changes = $3::jsonb,
       outputs = $4::jsonb,
       error = $5,
       finished_at = clock_timestamp(),
       started_at = coalesce(started_at, clock_timestamp()),
       duration_ms = round(extract(epoch from clock_timestamp() - coalesce(started_at, clock_timestamp())) * 1000)
     where id = $1 and status in ('queued', 'running')
     returning *`,
    [operationId, result.status, jsonb(result.changes), jsonb(result.outputs), result.error ?? null],
  );
  if (rows[0]) return fromRow(rows[0]);
  const existing = await findOperation(db, operationId);
  throw new OperationStateError(
    existing
      ? `operation ${operationId} already finished (${existing.status}); start a new operation instead`
      : `operation ${operationId} does not exist`,
  );
}

export async function findOperation(db: Queryable, id: string): Promise<Operation | null> {
  const { rows } = await db.query<OperationRow>("select * from public.operations where id = $1", [id]);
  return rows[0] ? fromRow(rows[0]) : null;
}

/** An instance's operations, newest first. */
export async function operationsForInstance(
  db: Queryable,
  instanceId: string,
  limit = 50,
): Promise<Operation[]> {
  const { rows } = await db.query<OperationRow>(
    `select * from public.operations where instance_id = $1
     order by created_at desc, id desc limit $2`,
    [instanceId, limit],
  );
  return rows.map(fromRow);
}

/** Operations that failed at or after `since`, newest first (operators' "what broke" view). */
export async function failedOperationsSince(db: Queryable, since: Date, limit = 200): Promise<Operation[]> {
  const { rows } = await db.query<OperationRow>(
    `select * from public.operations where status = 'failed' and finished_at >= $1
     order by finished_at desc limit $2`,
    [since, limit],
  );
  return rows.map(fromRow);
}
