/**
 * Applying a reconcile's decision: one operation on the tenant's stack through
 * the automation layer, recorded in the platform database from start (the
 * operation row, the audit entry, the instance's transitional state) through
 * throttled progress to its finish (the instance's actual state and outputs,
 * with the email the finish owes the customer in the same transaction).
 * It all happens under the tenant's lease, taken before anything is recorded:
 * while another holder works on the tenant (another machine, an operator's
 * command) nothing is written, and the job is retried later.
 * A failed operation throws, so the queue retries the job.
 */
import type pg from "pg";
import type { OperationResult } from "../../automation/operationResult.ts";
import type { ProgressEvent } from "../../automation/progress.ts";
import type { AcquireOptions, TenantLease } from "../../automation/tenantLease.ts";
import type { PolicyPackOptions } from "../../automation/tenantStacks.ts";
import type { TenantSecrets } from "../../automation/tenantWorkspaces.ts";
import type { KnownHost } from "../../components/hostPool.ts";
import type { TenantSpec } from "../../components/tenantSpec.ts";
import { audit } from "../../database/auditLog.ts";
import type { Customer } from "../../database/customers.ts";
import type { ActualState } from "../../database/instanceStates.ts";
import { type Instance, recordActual } from "../../database/instances.ts";
import { finishOperation, recordProgress, startOperation } from "../../database/operations.ts";
import { findSubscription } from "../../database/subscriptions.ts";
import { transaction } from "../../database/transaction.ts";
import type { Logger } from "../../logging/logger.ts";
import {
  emailsAfterFailedOperation,
  emailsAfterOperation,
  queueCustomerEmails,
  suspensionCause,
} from "../notifications/customerEmails.ts";
import type { ReconcileJob } from "../queue.ts";
import { actorOf, verbFor, type Wanted } from "./jobDecisions.ts";
import { ThrottledProgress } from "./operationProgress.ts";
import { failInterruptedOperations } from "./store.ts";
import type { WorkerMetrics } from "./workerMetrics.ts";

/** The automation layer as the worker uses it (automation/operations.ts `Operations` fits). */
export interface TenantOperations {
  readonly pool: {
    apply(
      spec: TenantSpec,
      secrets: TenantSecrets,
      options?: {
        onProgress?: (e: ProgressEvent) => void;
        signal?: AbortSignal;
        policy?: PolicyPackOptions;
        lease?: TenantLease;
      },
    ): Promise<OperationResult>;
    destroy(
      tenant: string,
      options?: {
        removeStack?: boolean;
        signal?: AbortSignal;
        policy?: PolicyPackOptions;
        lease?: TenantLease;
      },
    ): Promise<OperationResult>;
  };
  /** Tenant leases (automation/tenantLease.ts): one operation per tenant across machines. */
  readonly leases: {
    acquire(tenant: string, operation: string, options?: AcquireOptions): Promise<TenantLease>;
  };
  secrets(): TenantSecrets;
  /** The policy pack for these hosts (the hosts table changes while the pool runs); absent in fakes. */
  policyFor?(hosts: readonly KnownHost[]): PolicyPackOptions | undefined;
}

export interface ApplyDeps {
  readonly db: { readonly pool: pg.Pool };
  readonly operations: TenantOperations;
  readonly log: Logger;
  /**
   * How long to wait for another holder of the tenant before the job is retried later (the
   * worker passes automation/settings.ts leaseWaitMs; default 0).
   */
  readonly leaseWaitMs?: number;
  /** Progress writes to the operations row, at most one per interval (default 1 s). */
  readonly progressIntervalMs?: number;
}

/** A job that ran an operation. */
export interface AppliedOutcome {
  readonly action: "up" | "destroy";
  readonly instanceId: string;
  readonly operationId: string;
  readonly result: OperationResult;
}

/** The automation layer reported a failed operation: thrown so the queue retries. */
export class ReconcileOperationError extends Error {
  override readonly name = "ReconcileOperationError";
  readonly operationId: string;
  constructor(message: string, operationId: string) {
    super(message);
    this.operationId = operationId;
  }
}

/** One reconcile's operation, as the worker decided it. */
interface OperationRun {
  readonly job: ReconcileJob;
  readonly metrics: WorkerMetrics | undefined;
  readonly customer: Customer;
  readonly rows: { readonly before: Instance; readonly instance: Instance };
  readonly desired: Wanted;
  readonly spec: TenantSpec;
  readonly hash: string;
  /** Every known host (the policy pack's list). */
  readonly hosts: readonly KnownHost[];
  /** The runtime's model provider keys (modelKeys.ts); written into the stack as Pulumi secrets. */
  readonly providerKeys: Readonly<Record<string, string>> | undefined;
}

export async function runOperation(
  deps: ApplyDeps,
  job: ReconcileJob,
  metrics: WorkerMetrics | undefined,
  customer: Customer,
  rows: { readonly before: Instance; readonly instance: Instance },
  desired: Wanted,
  spec: TenantSpec,
  hash: string,
  /** Every known host (the policy pack's list). */
  hosts: readonly KnownHost[],
  /** The runtime's model provider keys (modelKeys.ts); written into the stack as Pulumi secrets. */
  providerKeys?: Readonly<Record<string, string>>,
): Promise<AppliedOutcome> {
  const { instance } = rows;
  const kind = desired.state === "deleted" ? "destroy" : "up";
  const log = deps.log.child({
    customer: job.customerKey,
    job: job.id,
    tenant: instance.slug,
    ...(job.requestId ? { requestId: job.requestId } : {}),
  });
  // Nothing is recorded until the tenant is ours: a busy tenant throws here and the job is retried.
  const lease = await deps.operations.leases.acquire(instance.slug, kind, {
    waitMs: deps.leaseWaitMs ?? 0,
    signal: job.signal,
  });
  try {
    const run = { job, metrics, customer, rows, desired, spec, hash, hosts, providerKeys };
    return await runLeased(deps, run, lease, log);
  } finally {
    await lease.release();
  }
}

async function runLeased(
  deps: ApplyDeps,
  run: OperationRun,
  lease: TenantLease,
  log: Logger,
): Promise<AppliedOutcome> {
  const { job, metrics, customer, rows, desired, spec, hash, hosts, providerKeys } = run;
  const secrets = () => ({ ...deps.operations.secrets(), ...(providerKeys ? { providerKeys } : {}) });
  const { before, instance } = rows;
  const { pool } = deps.db;
  const kind = desired.state === "deleted" ? "destroy" : "up";
  const actor = actorOf(job);
  const verb = verbFor(before, desired.state, spec);
  const operation = await transaction(pool, async (tx) => {
    // We hold the lease: an operation still open under another lease was left by a holder that is gone.
    const interrupted = await failInterruptedOperations(tx, instance.id);
    if (interrupted > 0)
      log.warn("operations interrupted by a stopped worker marked failed", { interrupted });
    const started = await startOperation(tx, {
      leaseHolder: lease.holder,
      instanceId: instance.id,
      kind,
      trigger: job.trigger,
      requestedBy: job.requestedBy ?? null,
      requestId: job.requestId ?? null,
      reason: `${job.reason}: ${desired.reason}`,
      specHash: hash,
      status: "queued",
    });
    await audit(tx, {
      actor,
      customerId: customer.id,
      instanceId: instance.id,
      action: `instance.${verb}`,
      reason: desired.reason,
      details: { operationId: started.id, tier: desired.tier, specHash: hash, event: job.eventId ?? null },
    });
    await recordActual(tx, instance.id, {
      actualState: kind === "destroy" ? "deleting" : "provisioning",
    });
    return started;
  });
  const progress = new ThrottledProgress(
    (summary) => recordProgress(pool, operation.id, summary),
    deps.progressIntervalMs ?? 1000,
    (error) => log.warn("progress write failed", { error }),
  );
  await recordProgress(pool, operation.id, progress.current);
  log.info("operation started", { operation: operation.id, kind, verb });

  const policy = deps.operations.policyFor?.(hosts);
  const options = {
    onProgress: (e: ProgressEvent) => progress.push(e),
    signal: job.signal,
    lease,
    ...(policy ? { policy } : {}),
  };
  let result: OperationResult;
  if (kind === "up") {
    result = await deps.operations.pool.apply(spec, secrets(), options);
  } else {
    // Deletion: the tenant component takes a final backup before its storage
    // goes (when the tenant has backups, which need AWS; tests leave them
    // out). Production data is protected (retainOnDelete) until an up with
    // purgeData lifts that, so in production that up comes first.
    result =
      spec.environment === "production"
        ? await deps.operations.pool.apply(spec, secrets(), options)
        : await deps.operations.pool.destroy(spec.slug, { ...options, removeStack: true });
    if (spec.environment === "production" && result.status === "succeeded")
      result = await deps.operations.pool.destroy(spec.slug, { ...options, removeStack: true });
    // Never provisioned (cancelled before a first up succeeded): nothing to delete.
    if (result.status === "failed" && result.error?.kind === "TenantNotFoundError")
      result = { ...result, status: "succeeded", error: undefined };
  }
  const finalProgress = await progress.flush();
  await recordProgress(pool, operation.id, {
    ...finalProgress,
    message: result.status === "succeeded" ? "succeeded" : `${result.status}: ${finalProgress.message}`,
  });
  // A policy violation is the useful part of a refused up: the engine's own message ends in its preview.
  const violations = result.policyViolations
    .filter((v) => v.level === "mandatory")
    .map((v) => `policy ${v.policy}: ${v.message}`);
  const error = result.error
    ? [...violations, `${result.error.kind}: ${result.error.message}`].join("\n")
    : null;
  await finishOperation(pool, operation.id, {
    status: result.status,
    changes: { ...result.changes },
    outputs: result.outputs ? { ...result.outputs } : null,
    error,
  });
  metrics?.operationSeconds.observe({ kind, status: result.status }, result.durationMs / 1000);

  if (result.status !== "succeeded") {
    await transaction(pool, async (tx) => {
      await recordActual(tx, instance.id, { actualState: "failed", lastError: error ?? result.status });
      await audit(tx, {
        actor,
        customerId: customer.id,
        instanceId: instance.id,
        action: `instance.${verb}.failed`,
        reason: error ?? result.status,
        details: { operationId: operation.id },
      });
      await queueCustomerEmails(
        tx,
        customer,
        instance.id,
        emailsAfterFailedOperation(customer, {
          verb,
          instance,
          attempt: job.attempt,
          retryLimit: job.retryLimit,
          at: new Date(),
        }),
      );
    });
    throw new ReconcileOperationError(
      `${kind} of tenant ${instance.slug} ${result.status}: ${error ?? "no error reported"}`,
      operation.id,
    );
  }
  const outputs = kind === "destroy" ? null : result.outputs ? { ...result.outputs } : null;
  await transaction(pool, async (tx) => {
    await recordActual(tx, instance.id, {
      actualState: desired.state satisfies ActualState,
      appliedSpecHash: hash,
      outputs,
      lastError: null,
    });
    const subscription =
      desired.state === "suspended" && desired.subscriptionId
        ? await findSubscription(tx, desired.subscriptionId)
        : null;
    await queueCustomerEmails(
      tx,
      customer,
      instance.id,
      emailsAfterOperation(customer, {
        verb,
        operationId: operation.id,
        instance,
        outputs,
        cause: suspensionCause(instance, subscription?.status ?? null),
        at: new Date(),
      }),
    );
  });
  return { action: kind, instanceId: instance.id, operationId: operation.id, result };
}
