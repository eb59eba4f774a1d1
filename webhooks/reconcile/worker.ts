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
import type { AutomationSettings } from "../../automation/settings.ts";
import type { OperationResult, TenantSecrets } from "../../automation/tenantStacks.ts";
import type { TenantSpec } from "../../components/tenantSpec.ts";
import type { Logger } from "../log.ts";
import type { ReconcileJob, ReconcileQueue, ReconcileRequest } from "../queue.ts";
import { type DesiredTenant, desiredState } from "./desiredState.ts";
import { ThrottledProgress } from "./operationProgress.ts";
import { placeTenant } from "./placement.ts";
import type { ReconcileSettings } from "./settings.ts";
import {
  type ActualState,
  audit,
  type CustomerRow,
  ensureCustomer,
  findCustomer,
  findInstance,
  finishOperation,
  type InstanceRow,
  insertInstance,
  insertOperation,
  markEventFailed,
  markEventsProcessed,
  markOperationRunning,
  placedInstances,
  SlugTakenError,
  transaction,
  updateInstance,
  upsertSubscription,
  writeOperationProgress,
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
        onProgress?: (e: import("../../automation/progress.ts").ProgressEvent) => void;
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
  readonly queue: Pick<ReconcileQueue, "enqueue" | "work">;
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

/** Starts taking reconcile jobs from the queue; `settings.reconcile.concurrency` at a time. */
export async function startReconcileWorker(deps: ReconcileDeps): Promise<void> {
  const handle = reconcileHandler(deps);
  await deps.queue.work(
    async (job) => {
      await handle(job);
    },
    { concurrency: deps.settings.reconcile.concurrency },
  );
}

/** The job handler, exposed for tests and for `mindroom-ops` running one reconcile in process. */
export function reconcileHandler(deps: ReconcileDeps): (job: ReconcileJob) => Promise<ReconcileOutcome> {
  const metrics = workerMetrics(deps.metrics?.registry);
  return async (job) => {
    const log = deps.log.child({ customer: job.customerKey, job: job.id, trigger: job.trigger });
    const startedAt = new Date();
    try {
      const outcome = await reconcile(deps, job, log);
      await markEventsProcessed(deps.db.pool, job.customerKey, startedAt);
      metrics?.jobs.inc({ outcome: outcome.action });
      log.info("reconciled", {
        action: outcome.action,
        ...("reason" in outcome ? { reason: outcome.reason } : {}),
        ...("operationId" in outcome ? { operation: outcome.operationId } : {}),
      });
      return outcome;
    } catch (error) {
      metrics?.jobs.inc({ outcome: "failed" });
      const message = (error as Error).message;
      log.error("reconcile failed", { error, attempt: job.attempt, retryLimit: job.retryLimit });
      if (job.eventId) await markEventFailed(deps.db.pool, job.eventId, message).catch(() => undefined);
      throw error;
    }
  };

  async function reconcile(deps: ReconcileDeps, job: ReconcileJob, log: Logger): Promise<ReconcileOutcome> {
    const { pool } = deps.db;
    const settings = deps.settings.reconcile;
    const now = deps.now?.() ?? new Date();
    const actor = actorOf(job);

    // 1. The truth, from Stripe: never the payload that woke us.
    const subscriptions = await fetchSubscriptions(deps.stripe, job.customerKey);
    const fetchedAt = new Date();
    let customer = await findCustomer(pool, job.customerKey);
    if (!customer) {
      if (subscriptions.length === 0)
        return { action: "none", reason: "no subscriptions and no customer row" };
      const facts = await fetchCustomer(deps.stripe, job.customerKey);
      customer = await ensureCustomer(pool, {
        stripeCustomerId: job.customerKey,
        email: facts.email,
        displayName: facts.name,
      });
    }
    for (const s of subscriptions) {
      const tier = s.priceId ? (settings.priceTiers.get(s.priceId) ?? null) : null;
      await upsertSubscription(pool, customer.id, s, tier, fetchedAt);
    }

    // 2. The decision.
    let instance = await findInstance(pool, customer.id);
    const desired = desiredState({
      subscriptions,
      instance: instance
        ? {
            tier: instance.tier,
            deletionDueAt: instance.deletion_due_at,
            deleted: instance.actual_state === "deleted",
          }
        : null,
      now,
      deletionGraceMs: settings.deletionGraceMs,
      priceTiers: settings.priceTiers,
    });
    if (desired.state === "absent") {
      if (instance && instance.desired_state !== "deleted")
        await updateInstance(pool, instance.id, { desired_state: "deleted", warning: null });
      return { action: "none", reason: desired.reason };
    }

    // 3. The instance row, its slug fixed at creation, its host by placement.
    if (!instance) instance = await createInstance(pool, customer, desired, actor, job.reason);
    if (!instance.host) instance = await place(pool, instance, desired, deps.settings.automation.hosts);

    const { spec, hash } = tenantSpecFor(
      desired,
      { slug: instance.slug, host: instance.host as string, displayName: customer.display_name },
      { ...deps.settings.automation, ...settings },
    );
    const deletionDueAt = "deletionDueAt" in desired ? desired.deletionDueAt : null;
    const before = instance;
    instance = await updateInstance(pool, instance.id, {
      tier: desired.tier,
      desired_state: desired.state,
      spec,
      spec_hash: hash,
      warning: desired.state === "running" ? desired.warning : null,
      deletion_due_at: deletionDueAt,
    });
    await auditDeletionSchedule(pool, before, instance, actor, desired.reason);
    if (desired.state === "suspended" && desired.deletionDueAt) {
      // The deletion runs when due, without waiting for the next sweep.
      await deps.queue.enqueue(deletionJob(job, desired.deletionDueAt));
    }

    // 4. Nothing to do when the last successful operation applied this very spec.
    if (instance.applied_spec_hash === hash && instance.actual_state === settledState(desired)) {
      return {
        action: "skipped",
        instanceId: instance.id,
        reason: "spec unchanged since the last reconcile",
      };
    }

    // 5. Run it, recorded as an operation.
    return await runOperation(deps, job, log, customer, instance, desired, spec, hash);
  }
}

function settledState(desired: Exclude<DesiredTenant, { state: "absent" }>): ActualState {
  return desired.state;
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
  customer: CustomerRow,
  desired: Exclude<DesiredTenant, { state: "absent" }>,
  actor: string,
  reason: string,
): Promise<InstanceRow> {
  for (let attempt = 0; ; attempt++) {
    const slug = tenantSlug({
      stripeCustomerId: customer.stripe_customer_id ?? customer.id,
      email: customer.email,
      name: customer.display_name,
      attempt,
    });
    try {
      return await transaction(pool, async (tx) => {
        const row = await insertInstance(tx, {
          customerId: customer.id,
          slug,
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
      if (error instanceof SlugTakenError && attempt < 4) continue;
      // A concurrent reconcile of the same customer created it (the queue makes this rare).
      const existing = await findInstance(pool, customer.id);
      if (existing) return existing;
      throw error;
    }
  }
}

/** Placement under a lock, so two new tenants never both take a host's last room. */
async function place(
  pool: pg.Pool,
  instance: InstanceRow,
  desired: Exclude<DesiredTenant, { state: "absent" }>,
  hosts: AutomationSettings["hosts"],
): Promise<InstanceRow> {
  return transaction(pool, async (tx) => {
    await tx.query("select pg_advisory_xact_lock(hashtext('mindroom:placement'))");
    const current = await tx.query("select host from public.instances where id = $1", [instance.id]);
    const host = (current.rows[0] as { host: string | null } | undefined)?.host ?? null;
    if (host) return { ...instance, host };
    const placed = await placedInstances(tx, instance.id);
    return updateInstance(tx, instance.id, {
      host: placeTenant({ pool: hosts, placed, tier: desired.tier, current: null }),
    });
  });
}

async function auditDeletionSchedule(
  pool: pg.Pool,
  before: InstanceRow,
  after: InstanceRow,
  actor: string,
  reason: string,
): Promise<void> {
  const was = before.deletion_due_at?.getTime() ?? null;
  const now = after.deletion_due_at?.getTime() ?? null;
  if (was === now) return;
  const action =
    now === null
      ? after.desired_state === "deleted"
        ? null
        : "deletion.cancelled"
      : was === null
        ? "deletion.scheduled"
        : "deletion.rescheduled";
  if (!action) return;
  await audit(pool, {
    actor,
    customerId: after.customer_id,
    instanceId: after.id,
    action,
    reason,
    details: { deletionDueAt: after.deletion_due_at?.toISOString() ?? null },
  });
}

function verbFor(previous: ActualState, appliedBefore: boolean, desired: DesiredTenant["state"]): string {
  if (desired === "deleted") return "delete";
  if (desired === "running" && (previous === "pending" || !appliedBefore)) return "provision";
  if (desired === "running" && previous === "suspended") return "resume";
  if (desired === "suspended" && previous === "running") return "suspend";
  return "update";
}

async function runOperation(
  deps: ReconcileDeps,
  job: ReconcileJob,
  log: Logger,
  customer: CustomerRow,
  instance: InstanceRow,
  desired: Exclude<DesiredTenant, { state: "absent" }>,
  spec: TenantSpec,
  hash: string,
): Promise<ReconcileOutcome> {
  const { pool } = deps.db;
  const kind = desired.state === "deleted" ? "destroy" : "up";
  const actor = actorOf(job);
  const verb = verbFor(instance.actual_state, instance.applied_spec_hash !== null, desired.state);
  const operationId = await transaction(pool, async (tx) => {
    const id = await insertOperation(tx, {
      instanceId: instance.id,
      kind,
      trigger: job.trigger,
      requestedBy: job.requestedBy ?? null,
      reason: `${job.reason}: ${desired.reason}`,
      specHash: hash,
    });
    await audit(tx, {
      actor,
      customerId: customer.id,
      instanceId: instance.id,
      action: `instance.${verb}`,
      reason: desired.reason,
      details: { operationId: id, tier: desired.tier, specHash: hash, event: job.eventId ?? null },
    });
    return id;
  });
  await markOperationRunning(pool, operationId);
  await updateInstance(pool, instance.id, {
    actual_state: kind === "destroy" ? "deleting" : "provisioning",
    last_operation_id: operationId,
  });
  log.info("operation started", { operation: operationId, kind, verb, tenant: instance.slug });

  const progress = new ThrottledProgress(
    (summary) => writeOperationProgress(pool, operationId, summary),
    deps.progressIntervalMs ?? 1000,
    (error) => log.warn("progress write failed", { error }),
  );
  const options = {
    onProgress: (e: Parameters<typeof progress.push>[0]) => progress.push(e),
    signal: job.signal,
  };
  let result: OperationResult;
  if (kind === "up") {
    result = await deps.operations.pool.apply(spec, deps.operations.secrets(), options);
  } else {
    // Deletion: the component takes a final backup before its storage goes
    // (when the tenant has backups, which need AWS; tests leave them out).
    // Production data is protected (retainOnDelete) until an up with
    // purgeData lifts it, so that up comes first there.
    result =
      spec.environment === "production"
        ? await deps.operations.pool.apply(spec, deps.operations.secrets(), options)
        : ({ status: "succeeded" } as OperationResult);
    if (result.status === "succeeded")
      result = await deps.operations.pool.destroy(spec.slug, { ...options, removeStack: true });
    // Never provisioned (cancelled before the first up succeeded): nothing to delete.
    if (result.status === "failed" && result.error?.kind === "TenantNotFoundError")
      result = { ...result, status: "succeeded" };
  }
  const finalProgress = await progress.flush();
  const error = result.error ? `${result.error.kind}: ${result.error.message}` : null;
  await finishOperation(pool, operationId, {
    status: result.status,
    changes: result.changes,
    outputs: result.outputs ?? null,
    error,
    durationMs: result.durationMs,
    progress: result.status === "succeeded" ? { ...finalProgress, message: "succeeded" } : finalProgress,
  });
  workerMetrics(deps.metrics?.registry)?.operationSeconds.observe(
    { kind, status: result.status },
    result.durationMs / 1000,
  );

  if (result.status !== "succeeded") {
    await updateInstance(pool, instance.id, { actual_state: "failed", last_error: error ?? result.status });
    await audit(pool, {
      actor,
      customerId: customer.id,
      instanceId: instance.id,
      action: `instance.${verb}.failed`,
      reason: error ?? result.status,
      details: { operationId },
    });
    throw new ReconcileOperationError(
      `${kind} of tenant ${instance.slug} ${result.status}: ${error ?? "no error reported"}`,
      operationId,
    );
  }
  await updateInstance(pool, instance.id, {
    actual_state: desired.state,
    applied_spec_hash: hash,
    outputs: kind === "destroy" ? null : (result.outputs ?? null),
    last_error: null,
  });
  return { action: kind, instanceId: instance.id, operationId, result };
}
