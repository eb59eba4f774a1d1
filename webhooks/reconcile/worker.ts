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
import { type AutomationSettings, leaseWaitMs } from "../../automation/settings.ts";
import { providerKeySealingSeed } from "../../components/tenantSecrets.ts";
import { readHostPool, seedHosts } from "../../database/hosts.ts";
import { findInstanceByCustomer, recordActual, updateDesired } from "../../database/instances.ts";
import { sealingKeyPair } from "../../database/sealedSecrets.ts";
import { transaction } from "../../database/transaction.ts";
import type { ReconcileJob, ReconcileQueue } from "../queue.ts";
import { type ScheduleDeps, startSchedules } from "../schedules.ts";
import { type AppliedOutcome, type ApplyDeps, runOperation } from "./applyOperation.ts";
import { placeOrWait, planThatFits, platformShape } from "./capacity.ts";
import { desiredState, instanceSnapshot } from "./desiredState.ts";
import { createInstance, recordDeletionSchedule, syncFromStripe } from "./instanceRecords.ts";
import { actorOf, deletionJob } from "./jobDecisions.ts";
import { hashWithKeys, tenantModelKeys } from "./modelKeys.ts";
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
  /** No host has room for the new tenant yet (capacity.ts); the capacity retry brings it back. */
  | { readonly action: "waiting"; readonly instanceId: string; readonly reason: string }
  | AppliedOutcome;

/**
 * Starts taking reconcile jobs from the queue (`settings.reconcile.concurrency`
 * at a time) and the schedules beside them (webhooks/schedules.ts: the sweep,
 * health checks, drift checks, capacity retries, usage collection). All stop
 * with the queue.
 */
export async function startReconcileWorker(
  deps: ReconcileDeps & {
    readonly queue: Pick<ReconcileQueue, "enqueue" | "work" | "boss">;
    readonly operations: ReconcileDeps["operations"] & ScheduleDeps["operations"];
  },
): Promise<void> {
  const handle = reconcileHandler(deps);
  await deps.queue.work(
    async (job) => {
      await handle(job);
    },
    { concurrency: deps.settings.reconcile.concurrency },
  );
  await startSchedules(deps);
}

/** The job handler, exposed for tests and for running one reconcile in process. */
export function reconcileHandler(deps: ReconcileDeps): (job: ReconcileJob) => Promise<ReconcileOutcome> {
  const metrics = workerMetrics(deps.metrics?.registry);
  // DOKKU_HOSTS seeds the hosts table once per handler (the table is the truth after that).
  let seeded: Promise<void> | undefined;
  return async (job) => {
    const log = deps.log.child({
      customer: job.customerKey,
      job: job.id,
      trigger: job.trigger,
      ...(job.requestId ? { requestId: job.requestId } : {}),
    });
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

  // 3. The instance row: its slug fixed at creation, its host by placement among the hosts
  //    table's, a plan its host can hold (capacity.ts: otherwise it waits, or keeps its plan).
  const hosts = await readHostPool(pool);
  if (!instance) instance = await createInstance(pool, customer, desired, actor, job.reason);
  const shape = platformShape(settings);
  if (!instance.host) {
    const placement = await placeOrWait(pool, instance, shape(desired.tier), hosts.schedulable);
    if (!placement.placed) {
      if (desired.state !== "deleted") {
        await updateDesired(pool, instance.id, { tier: desired.tier, desiredState: desired.state });
        return { action: "waiting", instanceId: instance.id, reason: placement.detail };
      }
      // Cancelled while it waited: nothing was ever made.
      await updateDesired(pool, instance.id, { desiredState: "deleted", blockedReason: null });
      await recordActual(pool, instance.id, { actualState: "deleted" });
      return { action: "none", reason: `never placed: ${desired.reason}` };
    }
    instance = placement.instance;
  }
  const plan = await planThatFits(pool, instance, desired, shape, hosts.known);
  instance = plan.instance;

  const { spec, hash: specHash } = tenantSpecFor(
    { ...desired, tier: plan.tier },
    {
      slug: instance.slug,
      host: instance.host as string,
      displayName: customer.displayName,
      restartGeneration: instance.restartGeneration,
      runtimeImage: instance.runtimeImage,
      ownerAccountId: customer.userId,
      bridges: instance.bridges,
      ...(instance.spec?.homeserver === "synapse" || instance.spec?.homeserver === "tuwunel"
        ? { homeserver: instance.spec.homeserver }
        : {}),
    },
    { ...deps.settings.automation, ...settings, hosts: hosts.known, hostKeys: hosts.keys },
  );
  // The runtime's model keys: not part of the spec (secrets), but a changed key is a change to apply.
  const keys =
    desired.state === "deleted"
      ? { env: {}, revision: null }
      : await tenantModelKeys(pool, customer.id, plan.tier, {
          sealing: sealingKeyPair(providerKeySealingSeed(deps.settings.automation.rootSecret)),
          managed: settings.managedProviderKeys,
        });
  const hash = hashWithKeys(specHash, keys);
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
    { ...deps, leaseWaitMs: deps.leaseWaitMs ?? leaseWaitMs(deps.settings.automation) },
    job,
    metrics,
    customer,
    { before, instance },
    desired,
    spec,
    hash,
    hosts.known,
    keys.env,
  );
}
