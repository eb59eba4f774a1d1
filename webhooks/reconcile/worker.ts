/**
 * The reconcile worker: for one customer, re-read the truth from Stripe,
 * derive the whole desired state of the tenant (pure functions), and make the
 * infrastructure match it through the automation layer, recording every step
 * in the platform database. Level-triggered: a job only says "look at this
 * customer again", so duplicate, late or reordered events converge to the same
 * state, and a job with nothing to change records no operation.
 *
 * A failure throws, so the queue retries the job with backoff and finally
 * dead-letters it for an operator.
 */
import type pg from "pg";
import { Counter, Histogram, type Registry } from "prom-client";
import type { OperationResult } from "../../automation/operationResult.ts";
import type { ProgressEvent } from "../../automation/progress.ts";
import type { AutomationSettings } from "../../automation/settings.ts";
import type { TenantSecrets } from "../../automation/tenantWorkspaces.ts";
import type { TenantSpec } from "../../components/tenantSpec.ts";
import { audit } from "../../database/auditLog.ts";
import { type Customer, findCustomerByStripeId, upsertCustomerByStripeId } from "../../database/customers.ts";
import {
  type ActualState,
  findInstanceByCustomer,
  type Instance,
  InstanceConflictError,
  createInstance as insertInstance,
  recordActual,
  updateDesired,
} from "../../database/instances.ts";
import { finishOperation, recordProgress, startOperation } from "../../database/operations.ts";
import { upsertSubscription } from "../../database/subscriptions.ts";
import { transaction } from "../../database/transaction.ts";
import type { Logger } from "../log.ts";
import type { ReconcileJob, ReconcileQueue, ReconcileRequest } from "../queue.ts";
import { startPeriodicSweep } from "../sweep.ts";
import { type DesiredTenant, desiredState, instanceSnapshot } from "./desiredState.ts";
import { ThrottledProgress } from "./operationProgress.ts";
import { placeTenant } from "./placement.ts";
import type { ReconcileSettings } from "./settings.ts";
import {
  failInterruptedOperations,
  markCustomerEventsProcessed,
  noteEventError,
  placedInstances,
} from "./store.ts";
import { fetchCustomer, fetchSubscriptions, type StripeReader } from "./stripeSubscriptions.ts";
import { tenantSlug } from "./tenantSlug.ts";
import { tenantSpecFor } from "./tenantSpecFor.ts";

/** The automation layer as the worker uses it (automation/operations.ts `Operations` fits). */
export interface TenantOperations {
  readonly pool: {
    apply(
      spec: TenantSpec,
      secrets: TenantSecrets,
      options?: {
        onProgress?: (e: ProgressEvent) => void;
        signal?: AbortSignal;
      },
    ): Promise<OperationResult>;
    destroy(
      tenant: string,
      options?: { removeStack?: boolean; signal?: AbortSignal },
    ): Promise<OperationResult>;
  };
  secrets(): TenantSecrets;
}

export interface WorkerSettings {
  readonly automation: AutomationSettings;
  readonly reconcile: ReconcileSettings;
}

export interface ReconcileDeps {
  readonly db: { readonly pool: pg.Pool };
  readonly queue: Pick<ReconcileQueue, "enqueue">;
  readonly operations: TenantOperations;
  readonly stripe: StripeReader;
  readonly settings: WorkerSettings;
  readonly log: Logger;
  /** The service's registry (webhooks/metrics.ts); the worker adds its own metrics to it. */
  readonly metrics?: { readonly registry: Registry };
  /** For tests of time-dependent decisions; the wall clock otherwise. */
  readonly now?: () => Date;
  /** Progress writes to the operations row, at most one per interval (default 1 s). */
  readonly progressIntervalMs?: number;
}

/** What one job came to. */
export type ReconcileOutcome =
  | { readonly action: "none"; readonly reason: string }
  | { readonly action: "skipped"; readonly instanceId: string; readonly reason: string }
  | {
      readonly action: "up" | "destroy";
      readonly instanceId: string;
      readonly operationId: string;
      readonly result: OperationResult;
    };

/** The automation layer reported a failed operation: thrown so the queue retries. */
export class ReconcileOperationError extends Error {
  override readonly name = "ReconcileOperationError";
  readonly operationId: string;
  constructor(message: string, operationId: string) {
    super(message);
    this.operationId = operationId;
  }
}

interface WorkerMetrics {
  readonly jobs: Counter<"outcome">;
  readonly operationSeconds: Histogram<"kind" | "status">;
}

function workerMetrics(registry: Registry | undefined): WorkerMetrics | undefined {
  if (!registry) return undefined;
  const existing = registry.getSingleMetric("mindroom_reconcile_jobs_total");
  if (existing) {
    return {
      jobs: existing as Counter<"outcome">,
      operationSeconds: registry.getSingleMetric("mindroom_reconcile_operation_seconds") as Histogram<
        "kind" | "status"
      >,
    };
  }
  return {
    jobs: new Counter({
      name: "mindroom_reconcile_jobs_total",
      help: "Reconcile jobs by outcome (none, skipped, up, destroy, failed)",
      labelNames: ["outcome"] as const,
      registers: [registry],
    }),
    operationSeconds: new Histogram({
      name: "mindroom_reconcile_operation_seconds",
      help: "Duration of the operations reconciles ran, by kind and status",
      labelNames: ["kind", "status"] as const,
      buckets: [1, 2.5, 5, 10, 20, 40, 80, 160, 320, 640],
      registers: [registry],
    }),
  };
}

/**
 * Starts taking reconcile jobs from the queue (`settings.reconcile.concurrency`
 * at a time) and the periodic sweep (`MINDROOM_SWEEP_INTERVAL`). Both stop
 * with the queue.
 */
export async function startReconcileWorker(
  deps: ReconcileDeps & { readonly queue: Pick<ReconcileQueue, "enqueue" | "work" | "boss"> },
): Promise<void> {
  const handle = reconcileHandler(deps);
  await deps.queue.work(
    async (job) => {
      await handle(job);
    },
    { concurrency: deps.settings.reconcile.concurrency },
  );
  await startPeriodicSweep(
    { ...deps, log: deps.log.child({ component: "sweep" }) },
    deps.settings.reconcile.sweepIntervalMs,
  );
}

type Wanted = Exclude<DesiredTenant, { state: "absent" }>;

/** The job handler, exposed for tests and for running one reconcile in process. */
export function reconcileHandler(deps: ReconcileDeps): (job: ReconcileJob) => Promise<ReconcileOutcome> {
  const metrics = workerMetrics(deps.metrics?.registry);
  return async (job) => {
    const log = deps.log.child({ customer: job.customerKey, job: job.id, trigger: job.trigger });
    const startedAt = new Date();
    try {
      const outcome = await reconcile(deps, job, metrics);
      await markCustomerEventsProcessed(deps.db.pool, job.customerKey, startedAt);
      metrics?.jobs.inc({ outcome: outcome.action });
      log.info("reconciled", {
        action: outcome.action,
        ...("reason" in outcome ? { reason: outcome.reason } : {}),
        ...("operationId" in outcome ? { operation: outcome.operationId } : {}),
      });
      return outcome;
    } catch (error) {
      metrics?.jobs.inc({ outcome: "failed" });
      log.error("reconcile failed", { error, attempt: job.attempt, retryLimit: job.retryLimit });
      if (job.eventId)
        await noteEventError(deps.db.pool, job.eventId, (error as Error).message).catch(() => undefined);
      throw error;
    }
  };
}

async function reconcile(
  deps: ReconcileDeps,
  job: ReconcileJob,
  metrics: WorkerMetrics | undefined,
): Promise<ReconcileOutcome> {
  const { pool } = deps.db;
  const settings = deps.settings.reconcile;
  const now = deps.now?.() ?? new Date();
  const actor = actorOf(job);

  // 1. The truth, from Stripe: never the payload that woke us.
  const subscriptions = await fetchSubscriptions(deps.stripe, job.customerKey);
  const fetchedAt = new Date();
  let customer = await findCustomerByStripeId(pool, job.customerKey);
  if (!customer) {
    if (subscriptions.length === 0) return { action: "none", reason: "no subscriptions and no customer row" };
    const facts = await fetchCustomer(deps.stripe, job.customerKey);
    customer = await upsertCustomerByStripeId(pool, {
      stripeCustomerId: job.customerKey,
      email: facts.email,
      displayName: facts.name,
    });
  }
  for (const s of subscriptions) {
    await upsertSubscription(pool, {
      id: s.id,
      customerId: customer.id,
      stripeCustomerId: s.stripeCustomerId,
      status: s.status,
      priceId: s.priceId,
      tier: s.priceId ? (settings.priceTiers.get(s.priceId) ?? null) : null,
      cancelAtPeriodEnd: s.cancelAtPeriodEnd,
      currentPeriodEnd: s.currentPeriodEnd,
      canceledAt: s.canceledAt,
      endedAt: s.endedAt,
      trialEnd: s.trialEnd,
      stripeCreated: s.created,
      lastSyncedAt: fetchedAt,
    });
  }

  // 2. The decision.
  let instance = await findInstanceByCustomer(pool, customer.id);
  const desired = desiredState({
    subscriptions,
    instance: instance ? instanceSnapshot(instance) : null,
    now,
    deletionGraceMs: settings.deletionGraceMs,
    priceTiers: settings.priceTiers,
  });
  if (desired.state === "absent") {
    if (instance && instance.desiredState !== "deleted")
      await updateDesired(pool, instance.id, { desiredState: "deleted", warning: null });
    return { action: "none", reason: desired.reason };
  }

  // 3. The instance row: its slug fixed at creation, its host by placement.
  if (!instance) instance = await createInstance(pool, customer, desired, actor, job.reason);
  if (!instance.host) instance = await place(pool, instance, desired, deps.settings.automation.hosts);

  const { spec, hash } = tenantSpecFor(
    desired,
    {
      slug: instance.slug,
      host: instance.host as string,
      displayName: customer.displayName,
      restartGeneration: instance.restartGeneration,
    },
    { ...deps.settings.automation, ...settings },
  );
  const deletionDueAt = desired.state === "running" ? null : desired.deletionDueAt;
  const before = instance;
  instance = await updateDesired(pool, instance.id, {
    tier: desired.tier,
    desiredState: desired.state,
    stackName: instance.slug,
    spec: spec as unknown as Record<string, unknown>,
    specHash: hash,
    warning: desired.state === "running" ? desired.warning : null,
    deletionDueAt,
  });
  await auditDeletionSchedule(pool, before, instance, actor, desired.reason);
  if (desired.state === "suspended" && desired.deletionDueAt) {
    // The deletion runs when due, without waiting for the next sweep.
    await deps.queue.enqueue(deletionJob(job, desired.deletionDueAt));
  }

  // 4. Nothing to do when the last successful operation applied this very spec.
  if (instance.appliedSpecHash === hash && instance.actualState === desired.state) {
    return { action: "skipped", instanceId: instance.id, reason: "spec unchanged since the last reconcile" };
  }

  // 5. Run it, recorded as an operation.
  return await runOperation(deps, job, metrics, customer, { before, instance }, desired, spec, hash);
}

function actorOf(job: ReconcileJob): string {
  if (job.requestedBy) return job.requestedBy;
  return job.trigger === "stripe" ? "stripe" : job.trigger === "sweep" ? "sweep" : "worker";
}

function deletionJob(job: ReconcileJob, dueAt: Date): ReconcileRequest {
  return {
    customerKey: job.customerKey,
    trigger: job.trigger,
    reason: `scheduled deletion due ${dueAt.toISOString()}`,
    startAfter: dueAt,
  };
}

async function createInstance(
  pool: pg.Pool,
  customer: Customer,
  desired: Wanted,
  actor: string,
  reason: string,
): Promise<Instance> {
  for (let attempt = 0; ; attempt++) {
    const slug = tenantSlug({
      stripeCustomerId: customer.stripeCustomerId ?? customer.id,
      email: customer.email,
      name: customer.displayName,
      attempt,
    });
    try {
      return await transaction(pool, async (tx) => {
        const row = await insertInstance(tx, {
          customerId: customer.id,
          slug,
          stackName: slug,
          tier: desired.tier,
          desiredState: desired.state,
        });
        await audit(tx, {
          actor,
          customerId: customer.id,
          instanceId: row.id,
          action: "instance.created",
          reason,
          details: { slug, tier: desired.tier },
        });
        return row;
      });
    } catch (error) {
      if (!(error instanceof InstanceConflictError)) throw error;
      // A concurrent reconcile of the same customer created it (the queue makes this rare)…
      const existing = await findInstanceByCustomer(pool, customer.id);
      if (existing) return existing;
      // …or another customer holds this slug: the next attempt lengthens the suffix.
      if (attempt >= 4) throw error;
    }
  }
}

/** Placement under a lock, so two new tenants never both take a host's last room. */
async function place(
  pool: pg.Pool,
  instance: Instance,
  desired: Wanted,
  hosts: AutomationSettings["hosts"],
): Promise<Instance> {
  return transaction(pool, async (tx) => {
    await tx.query("select pg_advisory_xact_lock(hashtext('mindroom:placement'))");
    const placed = await placedInstances(tx, instance.id);
    return updateDesired(tx, instance.id, {
      host: placeTenant({ pool: hosts, placed, tier: desired.tier, current: null }),
    });
  });
}

async function auditDeletionSchedule(
  pool: pg.Pool,
  before: Instance,
  after: Instance,
  actor: string,
  reason: string,
): Promise<void> {
  const was = before.deletionDueAt?.getTime() ?? null;
  const now = after.deletionDueAt?.getTime() ?? null;
  if (was === now) return;
  const action =
    now === null ? "deletion.cancelled" : was === null ? "deletion.scheduled" : "deletion.rescheduled";
  await audit(pool, {
    actor,
    customerId: after.customerId,
    instanceId: after.id,
    action,
    reason,
    details: { deletionDueAt: after.deletionDueAt?.toISOString() ?? null },
  });
}

function verbFor(previous: Instance, desired: Wanted["state"], spec: TenantSpec): string {
  if (desired === "deleted") return "delete";
  if (
    desired === "running" &&
    previous.appliedSpecHash !== null &&
    previous.desiredState === "running" &&
    spec.restartGeneration !== previous.spec?.restartGeneration
  )
    return "restart";
  if (
    desired === "running" &&
    (previous.actualState === "suspended" || previous.desiredState === "suspended")
  )
    return previous.appliedSpecHash === null ? "provision" : "resume";
  if (desired === "running" && previous.appliedSpecHash === null) return "provision";
  if (desired === "suspended" && previous.actualState !== "suspended") return "suspend";
  return "update";
}

async function runOperation(
  deps: ReconcileDeps,
  job: ReconcileJob,
  metrics: WorkerMetrics | undefined,
  customer: Customer,
  rows: { readonly before: Instance; readonly instance: Instance },
  desired: Wanted,
  spec: TenantSpec,
  hash: string,
): Promise<ReconcileOutcome> {
  const { before, instance } = rows;
  const { pool } = deps.db;
  const kind = desired.state === "deleted" ? "destroy" : "up";
  const actor = actorOf(job);
  const verb = verbFor(before, desired.state, spec);
  const log = deps.log.child({ customer: job.customerKey, job: job.id, tenant: instance.slug });
  const operation = await transaction(pool, async (tx) => {
    const interrupted = await failInterruptedOperations(tx, instance.id);
    if (interrupted > 0)
      log.warn("operations interrupted by a stopped worker marked failed", { interrupted });
    const started = await startOperation(tx, {
      instanceId: instance.id,
      kind,
      trigger: job.trigger,
      requestedBy: job.requestedBy ?? null,
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

  const options = {
    onProgress: (e: ProgressEvent) => progress.push(e),
    signal: job.signal,
  };
  let result: OperationResult;
  if (kind === "up") {
    result = await deps.operations.pool.apply(spec, deps.operations.secrets(), options);
  } else {
    // Deletion: the tenant component takes a final backup before its storage
    // goes (when the tenant has backups, which need AWS; tests leave them
    // out). Production data is protected (retainOnDelete) until an up with
    // purgeData lifts that, so in production that up comes first.
    result =
      spec.environment === "production"
        ? await deps.operations.pool.apply(spec, deps.operations.secrets(), options)
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
    await recordActual(pool, instance.id, { actualState: "failed", lastError: error ?? result.status });
    await audit(pool, {
      actor,
      customerId: customer.id,
      instanceId: instance.id,
      action: `instance.${verb}.failed`,
      reason: error ?? result.status,
      details: { operationId: operation.id },
    });
    throw new ReconcileOperationError(
      `${kind} of tenant ${instance.slug} ${result.status}: ${error ?? "no error reported"}`,
      operation.id,
    );
  }
  await recordActual(pool, instance.id, {
    actualState: desired.state satisfies ActualState,
    appliedSpecHash: hash,
    outputs: kind === "destroy" ? null : result.outputs ? { ...result.outputs } : null,
    lastError: null,
  });
  return { action: kind, instanceId: instance.id, operationId: operation.id, result };
}
