/**
 * Fleet rollouts through the queue. Starting one records its waves (the
 * canary first, fleet/rolloutPlan.ts) and queues its first look, in one
 * transaction. Each look (a job on the `rollout` queue, run by the worker)
 * decides the next step from the database alone: it sets the runtime image of
 * the next wave's tenants and queues their reconciles, records who converged,
 * halts on the first failed operation, and queues the next look. A halted or
 * interrupted rollout resumes from the database, where it stopped.
 */
import type pg from "pg";
import type { JobWithMetadata, PgBoss } from "pg-boss";
import { z } from "zod";
import { findInstanceById, type Instance } from "../database/instances.ts";
import {
  createRollout,
  findRollout,
  type Rollout,
  rolloutCandidates,
  rolloutTenants,
  setRolloutStatus,
  setRuntimeImage,
  setTenantStatus,
} from "../database/rollouts.ts";
import { transaction } from "../database/transaction.ts";
import {
  nextRolloutStep,
  type Observation,
  PINNED_IMAGE,
  planWaves,
  RolloutPlanError,
} from "../fleet/rolloutPlan.ts";
import type { Logger } from "../logging/logger.ts";
import { type ReconcileQueue, ROLLOUT_QUEUE } from "./queue.ts";

const jobData = z.object({ rolloutId: z.guid() });

interface QueueDeps {
  readonly pool: pg.Pool;
  readonly boss: PgBoss;
}

/** Queues a look at the rollout on `tx` (one waiting look per rollout: the queue is stately). */
async function queueLook(boss: PgBoss, tx: pg.PoolClient | pg.Pool, rolloutId: string, afterSeconds = 0) {
  await boss.send(
    ROLLOUT_QUEUE,
    { rolloutId },
    {
      singletonKey: rolloutId,
      ...(afterSeconds > 0 ? { startAfter: afterSeconds } : {}),
      db: { executeSql: (text, values) => tx.query(text, values) },
    },
  );
}

export interface RolloutRequest {
  readonly image: string;
  readonly canary: number;
  readonly batchSize: number;
  readonly requestedBy: string;
}

/** Records the rollout with its waves over every tenant and queues its first look, atomically. */
export async function startRollout(deps: QueueDeps, request: RolloutRequest): Promise<Rollout> {
  if (!PINNED_IMAGE.test(request.image))
    throw new RolloutPlanError(
      `--image must be pinned by digest (registry/name@sha256:<64 hex>), got ${request.image}: a tag can move under a rollout`,
    );
  return transaction(deps.pool, async (tx) => {
    const candidates = await rolloutCandidates(tx);
    const waves = planWaves(candidates, request.canary, request.batchSize);
    const rollout = await createRollout(tx, {
      ...request,
      tenants: waves.map(({ tenant, wave }) => ({
        instanceId: tenant.instanceId,
        wave,
        previousImage: tenant.runtimeImage,
      })),
    });
    await queueLook(deps.boss, tx, rollout.id);
    return rollout;
  });
}

/** Resumes a halted rollout: its failed tenants are tried again first, then the waves it never reached. */
export async function resumeRollout(deps: QueueDeps, id: string): Promise<Rollout> {
  return transaction(deps.pool, async (tx) => {
    const rollout = await findRollout(tx, id);
    if (!rollout) throw new RolloutPlanError(`no rollout ${id}: list them with mindroom-ops rollout --list`);
    if (rollout.status === "succeeded") return rollout;
    const failed = (await rolloutTenants(tx, id))
      .filter((t) => t.status === "failed")
      .map((t) => t.instanceId);
    await setTenantStatus(tx, id, failed, "pending");
    const resumed = await setRolloutStatus(tx, id, "running");
    await queueLook(deps.boss, tx, id);
    return resumed;
  });
}

/** Where a tenant being moved to `image` stands, from its instance row and its operations since `since`. */
async function observe(pool: pg.Pool, instanceId: string, image: string, since: Date): Promise<Observation> {
  const instance: Instance | null = await findInstanceById(pool, instanceId);
  // Deleted meanwhile: there is nothing left to move.
  if (!instance || instance.desiredState === "deleted") return { state: "converged" };
  const { rows } = await pool.query<{ error: string | null }>(
    `select error from public.operations
      where instance_id = $1 and status = 'failed' and created_at >= $2
      order by created_at limit 1`,
    [instanceId, since],
  );
  if (rows[0]) return { state: "failed", error: rows[0].error ?? "the operation failed" };
  const images = (instance.spec?.images ?? {}) as { runtime?: unknown };
  const applied = instance.specHash !== null && instance.appliedSpecHash === instance.specHash;
  return applied && images.runtime === image ? { state: "converged" } : { state: "in progress" };
}

export interface RolloutWorkerDeps extends QueueDeps {
  readonly queue: Pick<ReconcileQueue, "enqueue">;
  readonly log: Logger;
  /** Seconds between looks while a wave is applied (default 5). */
  readonly lookEverySeconds?: number;
}

/** One look at a rollout: decide, record, act, and queue the next look unless it ended. Exposed for tests. */
export function rolloutHandler(deps: RolloutWorkerDeps): (rolloutId: string) => Promise<void> {
  return async (rolloutId) => {
    const rollout = await findRollout(deps.pool, rolloutId);
    if (rollout?.status !== "running") return;
    const log = deps.log.child({ rollout: rollout.id, image: rollout.image });
    const tenants = await rolloutTenants(deps.pool, rollout.id);
    const observations = new Map<string, Observation>();
    for (const t of tenants.filter((t) => t.status === "applying"))
      observations.set(
        t.instanceId,
        await observe(deps.pool, t.instanceId, rollout.image, t.startedAt ?? rollout.createdAt),
      );
    const step = nextRolloutStep(tenants, (id) => observations.get(id) ?? { state: "in progress" });
    await transaction(deps.pool, async (tx) => {
      if (step.action !== "finish") await setTenantStatus(tx, rollout.id, step.succeeded, "succeeded");
      switch (step.action) {
        case "finish":
          await setRolloutStatus(tx, rollout.id, "succeeded");
          log.info("rollout succeeded", { tenants: tenants.length });
          return;
        case "halt": {
          for (const f of step.failed)
            await setTenantStatus(tx, rollout.id, [f.instanceId], "failed", f.error);
          const slugs = step.failed.map(
            (f) => tenants.find((t) => t.instanceId === f.instanceId)?.slug ?? f.instanceId,
          );
          await setRolloutStatus(
            tx,
            rollout.id,
            "halted",
            `${slugs.join(", ")} failed on ${rollout.image}: ${step.failed[0]?.error ?? ""}`.slice(0, 2000),
          );
          log.warn("rollout halted", { failed: slugs });
          return;
        }
        case "start wave": {
          await setRuntimeImage(tx, step.instanceIds, rollout.image);
          await setTenantStatus(tx, rollout.id, step.instanceIds, "applying");
          for (const id of step.instanceIds) {
            const tenant = tenants.find((t) => t.instanceId === id);
            if (!tenant?.customerKey) continue;
            await deps.queue.enqueue(
              {
                customerKey: tenant.customerKey,
                trigger: "operator",
                reason: `rollout ${rollout.id.slice(0, 8)} ${step.wave === 0 ? "canary" : `wave ${step.wave}`}: ${rollout.image}`,
                requestedBy: rollout.requestedBy,
              },
              tx,
            );
          }
          log.info("rollout wave started", { wave: step.wave, tenants: step.instanceIds.length });
          break;
        }
        case "wait":
          break;
      }
      await queueLook(deps.boss, tx, rollout.id, deps.lookEverySeconds ?? 5);
    });
  };
}

/** Takes rollout looks from the queue until the queue stops. */
export async function startRolloutWorker(deps: RolloutWorkerDeps): Promise<void> {
  const handle = rolloutHandler(deps);
  await deps.boss.work(
    ROLLOUT_QUEUE,
    { batchSize: 1, includeMetadata: true, pollingIntervalSeconds: 1 },
    async (jobs: JobWithMetadata<unknown>[]) => {
      for (const job of jobs) await handle(jobData.parse(job.data).rolloutId);
    },
  );
}
