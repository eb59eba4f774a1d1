/**
 * Live outputs and previews, asked of the worker: the portal holds no
 * infrastructure credentials (no SSH key, root secret or state backend), so it
 * records an operator request, queues it in the same transaction
 * (webhooks/operatorRequests.ts) and waits for the worker's answer in the
 * database. Long work never runs in the portal's event loop.
 */
import type { OperatorRequest, OperatorRequestKind } from "../../../database/operatorRequests.ts";
import { awaitOperatorRequest, submitOperatorRequest } from "../../../webhooks/operatorRequests.ts";
import { servicePool } from "./database.ts";
import type { Identity } from "./identity.ts";
import { reconcileQueue } from "./reconcileQueue.ts";

/** How long the portal waits for each kind of answer before telling the operator it is still running. */
const WAIT_MS: Record<OperatorRequestKind, number> = { outputs: 60_000, preview: 300_000 };

export async function askWorker(
  identity: Identity,
  instanceId: string,
  kind: OperatorRequestKind,
  reason: string | null,
): Promise<OperatorRequest> {
  const { boss } = await reconcileQueue();
  const request = await submitOperatorRequest(
    { pool: servicePool(), boss },
    {
      instanceId,
      kind,
      requestedBy: `operator:${identity.email}`,
      requestedByUserId: identity.userId,
      reason,
    },
  );
  return awaitOperatorRequest(servicePool(), request.id, { timeoutMs: WAIT_MS[kind] });
}

/** What to tell the operator when the answer is not a success. */
export function unanswered(request: OperatorRequest): string {
  if (request.status === "failed") return request.error ?? "The worker could not answer.";
  return `The worker has not answered yet (request ${request.id} is ${request.status}): is the webhook service with its worker running?`;
}
