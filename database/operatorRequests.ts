/**
 * Operator requests (`public.operator_requests`): live outputs and previews an
 * operator asks of the worker. The portal writes one and waits for its answer;
 * the worker claims it, runs it and records the result or the error.
 */
import type { Queryable } from "./connection.ts";
import { type JsonObject, jsonb, parseJsonObject } from "./jsonColumns.ts";

export const OPERATOR_REQUEST_KINDS = ["outputs", "preview"] as const;
export type OperatorRequestKind = (typeof OPERATOR_REQUEST_KINDS)[number];
export type OperatorRequestStatus = "queued" | "running" | "succeeded" | "failed";

export interface OperatorRequest {
  readonly id: string;
  readonly instanceId: string;
  readonly kind: OperatorRequestKind;
  readonly requestedBy: string;
  readonly requestedByUserId: string | null;
  readonly reason: string | null;
  readonly status: OperatorRequestStatus;
  readonly result: JsonObject | null;
  readonly error: string | null;
  readonly createdAt: Date;
  readonly startedAt: Date | null;
  readonly finishedAt: Date | null;
}

interface Row {
  id: string;
  instance_id: string;
  kind: OperatorRequestKind;
  requested_by: string;
  requested_by_user_id: string | null;
  reason: string | null;
  status: OperatorRequestStatus;
  result: unknown;
  error: string | null;
  created_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
}

function fromRow(row: Row): OperatorRequest {
  return {
    id: row.id,
    instanceId: row.instance_id,
    kind: row.kind,
    requestedBy: row.requested_by,
    requestedByUserId: row.requested_by_user_id,
    reason: row.reason,
    status: row.status,
    result: parseJsonObject(row.result, "operator_requests.result"),
    error: row.error,
    createdAt: row.created_at,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
  };
}

export interface NewOperatorRequest {
  readonly instanceId: string;
  readonly kind: OperatorRequestKind;
  readonly requestedBy: string;
  readonly requestedByUserId?: string | null;
  readonly reason?: string | null;
}

export async function createOperatorRequest(
  db: Queryable,
  input: NewOperatorRequest,
): Promise<OperatorRequest> {
  const { rows } = await db.query<Row>(
    `insert into public.operator_requests (instance_id, kind, requested_by, requested_by_user_id, reason)
     values ($1, $2, $3, $4, $5) returning *`,
    [input.instanceId, input.kind, input.requestedBy, input.requestedByUserId ?? null, input.reason ?? null],
  );
  return fromRow(rows[0] as Row);
}

export async function findOperatorRequest(db: Queryable, id: string): Promise<OperatorRequest | null> {
  const { rows } = await db.query<Row>("select * from public.operator_requests where id = $1", [id]);
  return rows[0] ? fromRow(rows[0]) : null;
}

/** Queued → running; null when it is not queued any more (another worker took it, or it finished). */
export async function claimOperatorRequest(db: Queryable, id: string): Promise<OperatorRequest | null> {
  const { rows } = await db.query<Row>(
    `update public.operator_requests set status = 'running', started_at = now()
     where id = $1 and status = 'queued' returning *`,
    [id],
  );
  return rows[0] ? fromRow(rows[0]) : null;
}

/** The answer: a result (outputs, or a preview's plan), an error, or both (a preview that failed shows its violations). */
export async function finishOperatorRequest(
  db: Queryable,
  id: string,
  outcome: { readonly result?: JsonObject | null; readonly error?: string | null },
): Promise<void> {
  await db.query(
    `update public.operator_requests
     set status = $2, result = $3::jsonb, error = $4, finished_at = now()
     where id = $1 and status in ('queued', 'running')`,
    [id, outcome.error ? "failed" : "succeeded", jsonb(outcome.result ?? null), outcome.error ?? null],
  );
}
