/**
 * Fleet rollouts on real Postgres and pg-boss, five tenants, a canary of one
 * and batches of two. The reconciles the rollout queues are carried out by a
 * stand-in that does what the reconcile worker records (the applied spec, or
 * a failed operation for an image that cannot be pulled); the reconcile itself
 * is tested against the real engine elsewhere.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createInstance,
  findInstanceByCustomer,
  recordActual,
  updateDesired,
} from "../database/instances.ts";
import { findRollout, RolloutConflictError, rolloutTenants } from "../database/rollouts.ts";
import { silentLogger } from "../logging/logger.ts";
import { type TestDatabase, testDatabase } from "../testing/database.ts";
import { openReconcileQueue, type ReconcileQueue, type ReconcileRequest, ROLLOUT_QUEUE } from "./queue.ts";
import { resumeRollout, rolloutHandler, startRollout } from "./rollouts.ts";

const image = (c: string) => `ghcr.io/mindroom-ai/mindroom@sha256:${c.repeat(64)}`;
const OLD = image("0");
const NEW = image("1");
const BROKEN = image("2");

let db: TestDatabase;
let queue: ReconcileQueue;
const queued: ReconcileRequest[] = [];
/** Images whose pull fails on the hosts. */
const unpullable = new Set<string>();

beforeAll(async () => {
  db = await testDatabase();
  queue = await openReconcileQueue({ url: db.url }, { pollingIntervalSeconds: 0.5 });
  for (let i = 0; i < 5; i++) {
    const { rows } = await db.pool.query<{ id: string }>(
      "insert into public.customers (email, stripe_customer_id) values ($1, $2) returning id",
      [`t${i}@example.com`, `cus_rollout_${i}`],
    );
    const instance = await createInstance(db.pool, {
      customerId: rows[0]?.id as string,
      slug: `tenant-${i}`,
      tier: "starter",
      desiredState: "running",
      host: "ssh://root@host.example.com:22",
      stackName: `tenant-${i}`,
      spec: { images: { runtime: OLD } },
      specHash: `old-${i}`,
    });
    await recordActual(db.pool, instance.id, { actualState: "running", appliedSpecHash: `old-${i}` });
  }
  // A tenant being deleted is not moved.
  const { rows } = await db.pool.query<{ id: string }>(
    "insert into public.customers (email, stripe_customer_id) values ('gone@example.com', 'cus_gone') returning id",
  );
  await createInstance(db.pool, {
    customerId: rows[0]?.id as string,
    slug: "tenant-gone",
    tier: "free",
    desiredState: "deleted",
    host: "ssh://root@host.example.com:22",
    stackName: "tenant-gone",
  });
});

afterAll(async () => {
  await queue?.stop({ timeoutMs: 1000 });
  await db?.close();
});

/** What the reconcile worker records for each queued customer: the new spec applied, or a failed up. */
async function reconcileQueued(): Promise<string[]> {
  const slugs: string[] = [];
  for (const job of queued.splice(0)) {
    const { rows } = await db.pool.query<{ id: string }>(
      "select id from public.customers where stripe_customer_id = $1",
      [job.customerKey],
    );
    const instance = await findInstanceByCustomer(db.pool, rows[0]?.id as string);
    if (!instance) throw new Error(`no instance for ${job.customerKey}`);
    slugs.push(instance.slug);
    const wanted = instance.runtimeImage ?? OLD;
    const hash = `${instance.slug}-${wanted.slice(-4)}`;
    await updateDesired(db.pool, instance.id, { spec: { images: { runtime: wanted } }, specHash: hash });
    if (unpullable.has(wanted)) {
      await db.pool.query(
        `insert into public.operations (instance_id, kind, "trigger", status, error, started_at, finished_at)
         values ($1, 'up', 'operator', 'failed', $2, now(), now())`,
        [instance.id, `Failed to pull image: ${wanted}`],
      );
    } else {
      await recordActual(db.pool, instance.id, { actualState: "running", appliedSpecHash: hash });
    }
  }
  return slugs.sort();
}

const deps = () => ({
  pool: db.pool,
  boss: queue.boss,
  queue: { enqueue: async (job: ReconcileRequest) => void queued.push(job) },
  log: silentLogger,
  lookEverySeconds: 1,
});

/** Runs looks (as the worker takes them from the queue) until the rollout ends; the waves each look started. */
async function drive(id: string): Promise<string[][]> {
  const look = rolloutHandler(deps());
  const waves: string[][] = [];
  for (let i = 0; i < 30; i++) {
    // Each look is a job on the rollout queue, queued by the step before it.
    const [job] = await queue.boss.fetch<{ rolloutId: string }>(ROLLOUT_QUEUE, { ignoreStartAfter: true });
    expect(job?.data.rolloutId).toBe(id);
    await queue.boss.complete(ROLLOUT_QUEUE, job?.id as string);
    await look(id);
    const started = await reconcileQueued();
    if (started.length > 0) waves.push(started);
    if ((await findRollout(db.pool, id))?.status !== "running") break;
  }
  return waves;
}

async function runtimeImages(): Promise<Record<string, string | null>> {
  const { rows } = await db.pool.query<{ slug: string; runtime_image: string | null }>(
    "select slug, runtime_image from public.instances order by slug",
  );
  return Object.fromEntries(rows.map((r) => [r.slug, r.runtime_image]));
}

describe("a fleet rollout", () => {
  it("refuses an image that is not pinned by digest", async () => {
    await expect(
      startRollout(deps(), {
        image: "ghcr.io/mindroom-ai/mindroom:latest",
        canary: 1,
        batchSize: 2,
        requestedBy: "operator:ops",
      }),
    ).rejects.toThrow("--image must be pinned by digest");
  });

  it("over 5 tenants, canary 1 and batches of 2, converges wave by wave", async () => {
    const rollout = await startRollout(deps(), {
      image: NEW,
      canary: 1,
      batchSize: 2,
      requestedBy: "operator:ops",
    });
    expect((await rolloutTenants(db.pool, rollout.id)).map((t) => [t.slug, t.wave])).toEqual([
      ["tenant-0", 0],
      ["tenant-1", 1],
      ["tenant-2", 1],
      ["tenant-3", 2],
      ["tenant-4", 2],
    ]);
    expect(await drive(rollout.id)).toEqual([
      ["tenant-0"],
      ["tenant-1", "tenant-2"],
      ["tenant-3", "tenant-4"],
    ]);
    expect((await findRollout(db.pool, rollout.id))?.status).toBe("succeeded");
    expect((await rolloutTenants(db.pool, rollout.id)).every((t) => t.status === "succeeded")).toBe(true);
    expect(await runtimeImages()).toEqual({
      "tenant-0": NEW,
      "tenant-1": NEW,
      "tenant-2": NEW,
      "tenant-3": NEW,
      "tenant-4": NEW,
      "tenant-gone": null,
    });
  });

  it("with a broken image, halts after the canary and leaves the rest untouched; resumed, it carries on", async () => {
    unpullable.add(BROKEN);
    const rollout = await startRollout(deps(), {
      image: BROKEN,
      canary: 1,
      batchSize: 2,
      requestedBy: "operator:ops",
    });
    expect(await drive(rollout.id)).toEqual([["tenant-0"]]);
    const halted = await findRollout(db.pool, rollout.id);
    expect(halted?.status).toBe("halted");
    expect(halted?.error).toBe(`tenant-0 failed on ${BROKEN}: Failed to pull image: ${BROKEN}`);
    const tenants = await rolloutTenants(db.pool, rollout.id);
    expect(tenants.map((t) => [t.slug, t.status])).toEqual([
      ["tenant-0", "failed"],
      ["tenant-1", "pending"],
      ["tenant-2", "pending"],
      ["tenant-3", "pending"],
      ["tenant-4", "pending"],
    ]);
    const images = await runtimeImages();
    expect([images["tenant-1"], images["tenant-2"], images["tenant-3"], images["tenant-4"]]).toEqual([
      NEW,
      NEW,
      NEW,
      NEW,
    ]);

    // Only one rollout at a time: a new one waits until this one is resumed and finished.
    await expect(
      startRollout(deps(), { image: NEW, canary: 1, batchSize: 2, requestedBy: "operator:ops" }),
    ).rejects.toBeInstanceOf(RolloutConflictError);

    // The registry had the image after all: resumed, the failed canary is tried again, then the rest.
    unpullable.delete(BROKEN);
    expect((await resumeRollout(deps(), rollout.id)).status).toBe("running");
    expect(await drive(rollout.id)).toEqual([
      ["tenant-0"],
      ["tenant-1", "tenant-2"],
      ["tenant-3", "tenant-4"],
    ]);
    expect((await findRollout(db.pool, rollout.id))?.status).toBe("succeeded");
  });
});
