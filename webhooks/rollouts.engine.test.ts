import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadAutomationSettings } from "../automation/settings.ts";
import { parseSlug, tenantNames } from "../components/tenantNames.ts";
import type { Instance } from "../database/instances.ts";
import { findRollout, type Rollout, rolloutTenants } from "../database/rollouts.ts";
import type { TestDatabase } from "../testing/database.ts";
import { dokkuTarget } from "../testing/dokkuTarget.ts";
import { instanceOfStripeCustomer } from "../testing/instanceRows.ts";
import { checkOut, type LocalStripe } from "../testing/stripeLocal.ts";
import { startStripePipeline } from "../testing/stripePipeline.ts";
import { deployedImage } from "../testing/tenantObserver.ts";
import { destroyEveryTenant } from "../testing/tenantTeardown.ts";
import { waitFor } from "../testing/waitFor.ts";
import { automationEnvironment, type WebhookServiceChild } from "../testing/webhookService.ts";
import { openReconcileQueue, type ReconcileQueue } from "./queue.ts";
import { startRollout } from "./rollouts.ts";

const target = dokkuTarget();
const TENANTS = 5;
const image = (c: string) => `ghcr.io/mindroom-ai/mindroom@sha256:${c.repeat(64)}`;
const NEW = image("c");
const BROKEN = image("d");
/** Five tenants' engine operations, one at a time, on a loaded 2-core machine, with room. */
const ENGINE_WAIT = { timeoutMs: 900_000, intervalMs: 1000 };
const dataDir = mkdtempSync(join(tmpdir(), "mindroom-rollout-e2e-"));
let db: TestDatabase;
let local: LocalStripe;
let service: WebhookServiceChild;
let queue: ReconcileQueue;
const customers: string[] = [];

beforeAll(async () => {
  ({ db, stripe: local, service } = await startStripePipeline({ dataDir, target, deletionGrace: "1h" }));
  // The operator's side: startRollout records the rollout and queues its first look on this queue.
  queue = await openReconcileQueue({ url: db.url });
});

afterAll(async () => {
  await queue?.stop({ timeoutMs: 1000 });
  await service?.stop();
  if (db)
    await destroyEveryTenant(
      db.pool,
      loadAutomationSettings({ ...automationEnvironment({ dataDir, target }), DATABASE_URL: db.url }),
    );
  await local?.stop();
  await db?.close();
  rmSync(dataDir, { recursive: true, force: true });
}, 900_000);

async function instances(): Promise<Instance[]> {
  const found = await Promise.all(customers.map((c) => instanceOfStripeCustomer(db.pool, c)));
  return found.filter((i): i is Instance => i !== undefined);
}

/** The runtime image each tenant's app runs on the host, by slug. */
async function imagesOnHost(): Promise<Record<string, string>> {
  const running: Record<string, string> = {};
  for (const instance of await instances())
    running[instance.slug] = await deployedImage(target, tenantNames(parseSlug(instance.slug)).runtimeApp);
  return running;
}

/** Waits until the rollout stopped running (succeeded or halted). */
function ended(id: string): Promise<Rollout> {
  return waitFor(
    "the rollout to end",
    async () => {
      const rollout = await findRollout(db.pool, id);
      return rollout && rollout.status !== "running" ? rollout : undefined;
    },
    {
      ...ENGINE_WAIT,
      explain: async () =>
        JSON.stringify((await rolloutTenants(db.pool, id)).map((t) => [t.slug, t.wave, t.status, t.error])),
    },
  );
}

const request = (image: string) => ({ image, canary: 1, batchSize: 2, requestedBy: "operator:ops" });

describe("a fleet rollout on the real engine", { timeout: 2_400_000 }, () => {
  it("provisions five tenants", async () => {
    for (let i = 0; i < TENANTS; i++)
      customers.push(
        (await checkOut(local, { email: `rollout-${i}@example.com`, name: `Rollout ${i}` })).customer,
      );
    await local.idle();
    const running = await waitFor(
      "five tenants to run with their spec applied",
      async () => {
        const all = await instances();
        return all.length === TENANTS &&
          all.every((i) => i.actualState === "running" && i.appliedSpecHash === i.specHash)
          ? all
          : undefined;
      },
      {
        ...ENGINE_WAIT,
        explain: async () =>
          JSON.stringify((await instances()).map((i) => [i.slug, i.actualState, i.lastError])),
      },
    );
    const before = await imagesOnHost();
    expect(Object.keys(before).sort()).toEqual(running.map((i) => i.slug).sort());
    // Each runs the platform's runtime image, which is neither of the rollout's.
    for (const deployed of Object.values(before)) {
      expect(deployed).not.toBe("");
      expect([NEW, BROKEN]).not.toContain(deployed);
    }
  });

  it("to a new image, canary 1 and batches of 2, converges wave by wave", async () => {
    const rollout = await startRollout({ pool: db.pool, boss: queue.boss }, request(NEW));
    expect((await ended(rollout.id)).status).toBe("succeeded");
    const tenants = await rolloutTenants(db.pool, rollout.id);
    expect(tenants.map((t) => [t.wave, t.status])).toEqual([
      [0, "succeeded"],
      [1, "succeeded"],
      [1, "succeeded"],
      [2, "succeeded"],
      [2, "succeeded"],
    ]);
    // Each wave started only once the one before it had converged.
    for (const wave of [1, 2]) {
      const previous = tenants.filter((t) => t.wave === wave - 1);
      const current = tenants.filter((t) => t.wave === wave);
      const previousDone = Math.max(...previous.map((t) => t.finishedAt?.getTime() ?? Number.NaN));
      const currentStart = Math.min(...current.map((t) => t.startedAt?.getTime() ?? Number.NaN));
      expect(currentStart).toBeGreaterThanOrEqual(previousDone);
    }
    expect(Object.values(await imagesOnHost())).toEqual(Array(TENANTS).fill(NEW));
  });

  it.skipIf(!target.faults)(
    "to an image whose pull fails, halts after the canary and leaves the rest untouched",
    async () => {
      const faults = target.faults;
      if (!faults) return;
      // Every try of the canary's deploy (the worker retries a failed up) fails as Docker's pull would.
      // Rules left unfired match only this digest; they are not cleared, which would disarm the
      // faults of test files running beside this one on the same host.
      for (let attempt = 0; attempt < 6; attempt++)
        await faults.failNext(new RegExp(`^git:from-image \\S+ ${BROKEN.replace(/[.]/g, "\\.")}$`), {
          exitCode: 1,
          stderr: `Error response from daemon: manifest for ${BROKEN} not found: manifest unknown`,
        });
      const rollout = await startRollout({ pool: db.pool, boss: queue.boss }, request(BROKEN));
      const halted = await ended(rollout.id);
      expect(halted.status).toBe("halted");
      const tenants = await rolloutTenants(db.pool, rollout.id);
      const canary = tenants[0]?.slug ?? "";
      expect(tenants.map((t) => [t.wave, t.status])).toEqual([
        [0, "failed"],
        [1, "pending"],
        [1, "pending"],
        [2, "pending"],
        [2, "pending"],
      ]);
      expect(halted.error).toContain(`${canary} failed on ${BROKEN}`);
      // On the host, every tenant (the canary too: its deploy never happened) still runs the previous image.
      const onHost = await imagesOnHost();
      expect(Object.values(onHost)).toEqual(Array(TENANTS).fill(NEW));
      // And the rollout never asked for the others: their desired runtime image is unchanged.
      const desired = Object.fromEntries((await instances()).map((i) => [i.slug, i.runtimeImage]));
      expect(Object.entries(desired).filter(([slug]) => slug !== canary)).toEqual(
        Object.keys(desired)
          .filter((slug) => slug !== canary)
          .map((slug) => [slug, NEW]),
      );
      expect(desired[canary]).toBe(BROKEN);
    },
  );
});
