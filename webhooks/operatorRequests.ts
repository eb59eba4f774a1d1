/**
 * Operator requests through the worker: the portal (which holds no
 * infrastructure credentials) records a request and queues it in the same
 * transaction, then waits for the answer in the database; the reconcile
 * worker, the only process that talks to Pulumi and the Dokku hosts, carries
 * it out: the stack's live outputs, or a preview with the policy pack for the
 * hosts table's hosts.
 */
import type pg from "pg";
import type { JobWithMetadata, PgBoss } from "pg-boss";
import { z } from "zod";
import type { OperationResult } from "../automation/operationResult.ts";
import type { RunOptions } from "../automation/pool/workerPool.ts";
import type { PolicyPackOptions } from "../automation/tenantStacks.ts";
import type { KnownHost } from "../components/hostPool.ts";
import { readHostPool } from "../database/hosts.ts";
import { findInstanceById } from "../database/instances.ts";
import {
  claimOperatorRequest,
  createOperatorRequest,
  findOperatorRequest,
  finishOperatorRequest,
  type NewOperatorRequest,
  type OperatorRequest,
} from "../database/operatorRequests.ts";
import { transaction } from "../database/transaction.ts";
import type { Logger } from "../logging/logger.ts";
import { OPERATOR_REQUEST_QUEUE } from "./queue.ts";

const jobData = z.object({ requestId: z.guid() });

/** Records the request and queues it, atomically. */
export async function submitOperatorRequest(
  deps: { readonly pool: pg.Pool; readonly boss: PgBoss },
  input: NewOperatorRequest,
): Promise<OperatorRequest> {
  return transaction(deps.pool, async (tx) => {
    const request = await createOperatorRequest(tx, input);
    await deps.boss.send(
      OPERATOR_REQUEST_QUEUE,
      { requestId: request.id },
      { db: { executeSql: (text, values) => tx.query(text, values) } },
    );
    return request;
  });
}

/** The request once answered, or as it stands when `timeoutMs` ran out (still queued or running). */
export async function awaitOperatorRequest(
  pool: pg.Pool,
  id: string,
  options: { readonly timeoutMs: number; readonly intervalMs?: number },
): Promise<OperatorRequest> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    const request = await findOperatorRequest(pool, id);
    if (!request) throw new Error(`operator request ${id} is gone`);
    if (request.status === "succeeded" || request.status === "failed" || Date.now() >= deadline)
      return request;
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 500));
  }
}

/** The automation layer as requests use it (automation/operations.ts `Operations` fits). */
export interface RequestOperations {
  readonly stacks: { outputs(tenant: string): Promise<Record<string, unknown>> };
  readonly pool: { run(kind: "preview", tenant: string, options?: RunOptions): Promise<OperationResult> };
  policyFor?(hosts: readonly KnownHost[]): PolicyPackOptions | undefined;
}

export interface RequestWorkerDeps {
  readonly pool: pg.Pool;
  readonly operations: RequestOperations;
  readonly log: Logger;
}

/** Runs one request: claims it, answers it, records the answer. Exposed for tests. */
export function operatorRequestHandler(deps: RequestWorkerDeps): (requestId: string) => Promise<void> {
  return async (requestId) => {
    const request = await claimOperatorRequest(deps.pool, requestId);
    if (!request) return;
    const log = deps.log.child({ request: request.id, kind: request.kind });
    try {
      const instance = await findInstanceById(deps.pool, request.instanceId);
      if (!instance?.stackName) throw new Error("this tenant has no stack yet: nothing was ever provisioned");
      if (request.kind === "outputs") {
        const outputs = await deps.operations.stacks.outputs(instance.stackName);
        await finishOperatorRequest(deps.pool, request.id, { result: outputs });
      } else {
        const hosts = await readHostPool(deps.pool);
        const policy = deps.operations.policyFor?.(hosts.known);
        const result = await deps.operations.pool.run(
          "preview",
          instance.stackName,
          policy ? { policy } : {},
        );
        const error =
          result.status === "succeeded"
            ? null
            : [
                ...result.policyViolations
                  .filter((v) => v.level === "mandatory")
                  .map((v) => `policy ${v.policy}: ${v.message}`),
                result.error ? `${result.error.kind}: ${result.error.message}` : `preview ${result.status}`,
              ].join("\n");
        await finishOperatorRequest(deps.pool, request.id, {
          result: JSON.parse(JSON.stringify(result)) as Record<string, unknown>,
          error,
        });
      }
      log.info("operator request answered", { by: request.requestedBy });
    } catch (error) {
      log.warn("operator request failed", { error });
      await finishOperatorRequest(deps.pool, request.id, { error: (error as Error).message });
    }
  };
}

/** Takes operator requests from the queue until the queue stops. */
export async function startOperatorRequestWorker(
  deps: RequestWorkerDeps & { readonly boss: PgBoss; readonly concurrency?: number },
): Promise<void> {
  const handle = operatorRequestHandler(deps);
  await deps.boss.work(
    OPERATOR_REQUEST_QUEUE,
    {
      localConcurrency: deps.concurrency ?? 2,
      batchSize: 1,
      includeMetadata: true,
      pollingIntervalSeconds: 1,
    },
    async (jobs: JobWithMetadata<unknown>[]) => {
      for (const job of jobs) await handle(jobData.parse(job.data).requestId);
    },
  );
}
