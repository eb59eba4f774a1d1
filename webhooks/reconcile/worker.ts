/**
 * The reconcile worker: for one customer, re-read the truth from Stripe,
 * derive the whole desired state of the tenant (pure functions), and make the
 * infrastructure match it through the automation layer, recording every step
 * in the platform database. Level-triggered: a job only says "look at this
 * customer again", so duplicate, late or reordered events converge to the same
 * state, and a job with nothing to change records no operation.
 *
 * Decide: desiredState.ts, jobDecisions.ts, tenantSpecFor.ts; record:
 * instanceRecords.ts; apply: applyOperation.ts. A failure throws, so the queue
 * retries the job with backoff and finally dead-letters it for an operator.
 */
import type { Registry } from "prom-client";
import type { AutomationSettings } from "../../automation/settings.ts";
import { readHostPool, seedHosts } from "../../database/hosts.ts";
import { findInstanceByCustomer, updateDesired } from "../../database/instances.ts";
import { transaction } from "../../database/transaction.ts";
import type { ReconcileJob, ReconcileQueue } from "../queue.ts";
import { startPeriodicSweep } from "../sweep.ts";
import { type AppliedOutcome, type ApplyDeps, runOperation } from "./applyOperation.ts";
import { desiredState, instanceSnapshot } from "./desiredState.ts";
import { createInstance, place, recordDeletionSchedule, syncFromStripe } from "./instanceRecords.ts";
import { actorOf, deletionJob } from "./jobDecisions.ts";
import type { ReconcileSettings } from "./settings.ts";
import { markCustomerEventsProcessed, noteEventError } from "./store.ts";
import type { StripeReader } from "./stripeSubscriptions.ts";
import { tenantSpecFor } from "./tenantSpecFor.ts";
import { type WorkerMetrics, workerMetrics } from "./workerMetrics.ts";

export interface WorkerSettings {
  readonly automation: AutomationSettings;
  readonly reconcile: ReconcileSettings;
}

export interface ReconcileDeps extends ApplyDeps {
  readonly queue: Pick<ReconcileQueue, "enqueue">;
  readonly stripe: StripeReader;
  readonly settings: WorkerSettings;
  /** The service's registry (webhooks/metrics.ts); the worker adds its own metrics to it. */
  readonly metrics?: { readonly registry: Registry };
  /** For tests of time-dependent decisions; the wall clock otherwise. */
  readonly now?: () => Date;
}

/** What one job came to. */
export type ReconcileOutcome =
  | { readonly action: "none"; readonly reason: string }
  | { readonly action: "skipped"; readonly instanceId: string; readonly reason: string }
  | AppliedOutcome;

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

/** The job handler, exposed for tests and for running one reconcile in process. */
export function reconcileHandler(deps: ReconcileDeps): (job: ReconcileJob) => Promise<ReconcileOutcome> {
  const metrics = workerMetrics(deps.metrics?.registry);
  // DOKKU_HOSTS seeds the hosts table once per handler (the table is the truth after that).
  let seeded: Promise<void> | undefined;
  return async (job) => {
    const log = deps.log.child({ customer: job.customerKey, job: job.id, trigger: job.trigger });
    const startedAt = new Date();
    try {
      seeded ??= seedHosts(deps.db.pool, deps.settings.automation.hosts, deps.settings.reconcile.hostKeys);
      await seeded.catch((error: unknown) => {
        seeded = undefined;
        throw error;
      });
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
  const { customer, subscriptions } = await syncFromStripe(
    pool,
    deps.stripe,
    job.customerKey,
    settings.priceTiers,
  );
  if (!customer) return { action: "none", reason: "no subscriptions and no customer row" };

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

  // 3. The instance row: its slug fixed at creation, its host by placement among the hosts table's.
  const hosts = await readHostPool(pool);
  if (!instance) instance = await createInstance(pool, customer, desired, actor, job.reason);
  if (!instance.host) instance = await place(pool, instance, desired, hosts.schedulable);

  const { spec, hash } = tenantSpecFor(
    desired,
    {
      slug: instance.slug,
      host: instance.host as string,
      displayName: customer.displayName,
      restartGeneration: instance.restartGeneration,
    },
    { ...deps.settings.automation, ...settings, hosts: hosts.known, hostKeys: hosts.keys },
  );
  const deletionDueAt = desired.state === "running" ? null : desired.deletionDueAt;
  const before = instance;
  instance = await transaction(pool, async (tx) => {
    const after = await updateDesired(tx, before.id, {
      tier: desired.tier,
      desiredState: desired.state,
      stackName: before.slug,
      spec: spec as unknown as Record<string, unknown>,
      specHash: hash,
      warning: desired.state === "running" ? desired.warning : null,
      deletionDueAt,
    });
    // The deletion is due one grace period after the subscription ended.
    const endedAt = new Date((deletionDueAt?.getTime() ?? now.getTime()) - settings.deletionGraceMs);
    await recordDeletionSchedule(tx, customer, { before, after }, { actor, reason: desired.reason, endedAt });
    return after;
  });
  if (desired.state === "suspended" && desired.deletionDueAt) {
    // The deletion runs when due, without waiting for the next sweep.
    await deps.queue.enqueue(deletionJob(job, desired.deletionDueAt));
  }

  // 4. Nothing to do when the last successful operation applied this very spec.
  if (instance.appliedSpecHash === hash && instance.actualState === desired.state) {
    return { action: "skipped", instanceId: instance.id, reason: "spec unchanged since the last reconcile" };
  }

  // 5. Run it, recorded as an operation.
  return await runOperation(
    deps,
    job,
    metrics,
    customer,
    { before, instance },
    desired,
    spec,
    hash,
    hosts.known,
  );
}
