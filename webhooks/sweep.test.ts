/**
 * The sweep on real Postgres, the real queue and the local Stripe API (tenants
 * provisioned through the reconcile handler with a recording double of the
 * automation port): it queues exactly the customers whose state disagrees, due
 * deletions included, flags what an operator must look at, and is reachable as
 * `mindroom-ops sweep` / `jobs`.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadAutomationSettings } from "../automation/settings.ts";
import { findCustomerByStripeId } from "../database/customers.ts";
import { findInstanceByCustomer, recordActual, updateDesired } from "../database/instances.ts";
import { silentLogger } from "../logging/logger.ts";
import { type TestDatabase, testDatabase } from "../testing/database.ts";
import { RecordingOperations } from "../testing/recordingOperations.ts";
import { type LocalStripe, stripeLocal } from "../testing/stripeLocal.ts";
import { SAMPLE_HOST_KEY, SAMPLE_ROOT_SECRET } from "../testing/tenantSamples.ts";
import { openReconcileQueue, type ReconcileQueue } from "./queue.ts";
import { loadReconcileSettings } from "./reconcile/settings.ts";
import { reconcileHandler } from "./reconcile/worker.ts";
import { SWEEP_QUEUE, type SweepDeps, startPeriodicSweep, sweep } from "./sweep.ts";

const run = promisify(execFile);
const HOST = "ssh://root@127.0.0.1:2222";
const dataDir = mkdtempSync(join(tmpdir(), "mindroom-sweep-"));
writeFileSync(join(dataDir, "known_hosts"), `[127.0.0.1]:2222 ${SAMPLE_HOST_KEY}\n`);
const env = {
  MINDROOM_DATA_DIR: dataDir,
  MINDROOM_ROOT_SECRET: SAMPLE_ROOT_SECRET,
  DOKKU_HOSTS: `${HOST}?memoryMb=65536&cpus=8`,
  DOKKU_KNOWN_HOSTS: join(dataDir, "known_hosts"),
  MINDROOM_DELETION_GRACE: "1h",
};
const automation = loadAutomationSettings(env);
const settings = { automation, reconcile: loadReconcileSettings(automation, env) };

let db: TestDatabase;
let local: LocalStripe;
let queue: ReconcileQueue;

beforeAll(async () => {
  db = await testDatabase();
  local = await stripeLocal({ fresh: true });
  queue = await openReconcileQueue({ url: db.url }, { poolSize: 2 });
});
afterAll(async () => {
  await queue?.stop({ timeoutMs: 2000 });
  await db?.close();
  await local?.stop();
});

async function checkout(email: string, price = "price_mindroom_starter") {
  const session = await local.stripe.checkout.sessions.create({
    mode: "subscription",
    line_items: [{ price, quantity: 1 }],
    customer_email: email,
    success_url: "https://app.mindroom.test/welcome",
  });
  const { session: done } = await local.controls.completeCheckout(session.id, { email });
  return { customer: String(done.customer), subscription: String(done.subscription) };
}

function reconcile(customerKey: string) {
  return reconcileHandler({
    db,
    queue: { enqueue: async () => undefined },
    operations: new RecordingOperations(),
    stripe: local.stripe,
    settings,
    log: silentLogger,
  })({
    id: "job",
    customerKey,
    trigger: "stripe",
    reason: "test",
    eventId: undefined,
    requestedBy: undefined,
    requestId: undefined,
    attempt: 0,
    retryLimit: 0,
    queuedAt: new Date(),
    signal: new AbortController().signal,
  });
}

async function queuedKeys(): Promise<string[]> {
  const { rows } = await db.pool.query(
    "select singleton_key from pgboss.job where name = 'reconcile' and state = 'created' order by singleton_key",
  );
  return (rows as { singleton_key: string }[]).map((r) => r.singleton_key);
}

async function instanceId(customerKey: string): Promise<string> {
  const customer = await findCustomerByStripeId(db.pool, customerKey);
  const instance = customer ? await findInstanceByCustomer(db.pool, customer.id) : null;
  if (!instance) throw new Error(`no instance for ${customerKey}`);
  return instance.id;
}

describe("the sweep", () => {
  it("queues every customer whose state disagrees, due deletions included, and flags failures", async () => {
    const deps: SweepDeps = { db, queue, stripe: local.stripe, settings, log: silentLogger };
    const fine = await checkout("fine@example.com");
    const missed = await checkout("missed@example.com");
    const failed = await checkout("failed@example.com");
    const stale = await checkout("stale@example.com");
    const leaving = await checkout("leaving@example.com");
    for (const c of [fine, failed, stale, leaving]) expect((await reconcile(c.customer)).action).toBe("up");

    // What the sweep must notice: a lost event (no instance), a failed operation, an applied
    // spec that differs, a cancellation whose deletion is due while nobody looked.
    await recordActual(db.pool, await instanceId(failed.customer), {
      actualState: "failed",
      lastError: "CommandError: ssh refused",
    });
    await updateDesired(db.pool, await instanceId(stale.customer), { specHash: "0".repeat(64) });
    await local.stripe.subscriptions.cancel(leaving.subscription);
    await reconcile(leaving.customer);

    // Two hours on, the cancellation's grace (1 h) is over.
    const report = await sweep({ ...deps, now: () => new Date(Date.now() + 2 * 3600_000) });
    expect(report.stripeSubscriptions).toBe(5);
    expect(report.instances).toBe(4);
    const reasons = Object.fromEntries(report.enqueued.map((e) => [e.customerKey, e.reason]));
    expect(Object.keys(reasons).sort()).toEqual(
      [missed.customer, failed.customer, stale.customer, leaving.customer].sort(),
    );
    expect(reasons[missed.customer]).toBe("no instance yet, should be running");
    expect(reasons[failed.customer]).toBe("actual failed, should be running");
    expect(reasons[stale.customer]).toBe("applied spec differs from the desired one");
    expect(reasons[leaving.customer]).toMatch(/^deletion due since /);
    expect(report.dueDeletions).toBe(1);
    expect(report.flagged).toEqual([
      {
        customerKey: failed.customer,
        slug: expect.any(String),
        finding: "last operation failed: CommandError: ssh refused",
      },
    ]);
    expect(await queuedKeys()).toEqual(Object.keys(reasons).sort());

    // Once reconciled (the deletion not yet due in real time), the next sweep finds nothing (and a second sweep does not pile up jobs).
    await db.pool.query("delete from pgboss.job where name = 'reconcile'");
    for (const c of [missed, failed, stale, leaving]) await reconcile(c.customer);
    // Stripe's rate limiter in the way (one request every two seconds, the bucket spent): the
    // sweep waits it out and says how often it had to.
    local.server.setRateLimit({ perSecond: 0.5 });
    let quiet: Awaited<ReturnType<typeof sweep>>;
    try {
      await local.stripe.subscriptions.list({ limit: 1 });
      quiet = await sweep({ ...deps, backoff: { policy: { attempts: 60, baseMs: 100, maxMs: 1000 } } });
    } finally {
      local.server.setRateLimit(null);
    }
    expect(quiet.stripeSubscriptions).toBe(5);
    expect(quiet.stripeRateLimited).toBeGreaterThan(0);
    expect(quiet.stripeListMs).toBeGreaterThan(0);
    expect(quiet.enqueued).toEqual([]);
    expect(quiet.flagged).toEqual([]);
    expect(await queuedKeys()).toEqual([]);
  });

  it("flags a price missing from STRIPE_PRICE_TIERS instead of queuing a job that can only fail", async () => {
    const { customer } = await checkout("enterprise@example.com", "price_mindroom_enterprise");
    const priceTiers = new Map(
      [...settings.reconcile.priceTiers].filter(([p]) => p !== "price_mindroom_enterprise"),
    );
    const report = await sweep({
      db,
      queue,
      stripe: local.stripe,
      settings: { automation, reconcile: { ...settings.reconcile, priceTiers } },
      log: silentLogger,
    });
    expect(report.enqueued.map((e) => e.customerKey)).not.toContain(customer);
    expect(report.flagged).toContainEqual({
      customerKey: customer,
      slug: null,
      finding: expect.stringContaining('add "price_mindroom_enterprise=<tier>" to STRIPE_PRICE_TIERS'),
    });
  });

  it("runs periodically inside the service through a self-rescheduling job", async () => {
    const { customer } = await checkout("periodic@example.com");
    await db.pool.query("delete from pgboss.job where name = 'reconcile'");
    await startPeriodicSweep({ db, queue, stripe: local.stripe, settings, log: silentLogger }, 1000);
    const deadline = Date.now() + 60_000;
    while (!(await queuedKeys()).includes(customer) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 200));
    expect(await queuedKeys()).toContain(customer);
    // One sweep job waits for its turn at a time, however many times it has run.
    const { rows } = await db.pool.query(
      "select count(*)::int as n from pgboss.job where name = $1 and state in ('created', 'retry')",
      [SWEEP_QUEUE],
    );
    expect((rows[0] as { n: number }).n).toBe(1);
    await queue.boss.offWork(SWEEP_QUEUE);
  });

  it("runs from mindroom-ops: sweep --json, jobs list, jobs retry of an unknown id", async () => {
    const cliEnv = {
      ...process.env,
      ...env,
      DATABASE_URL: db.url,
      STRIPE_API_BASE: local.url,
      STRIPE_SECRET_KEY: local.secretKey,
    };
    const bin = join(import.meta.dirname, "..", "bin", "mindroom-ops");
    await db.pool.query("delete from pgboss.job where name = 'reconcile'");
    const swept = await run(bin, ["sweep", "--json"], { env: cliEnv });
    const report = JSON.parse(swept.stdout) as {
      stripeSubscriptions: number;
      enqueued: { customerKey: string }[];
    };
    expect(report.stripeSubscriptions).toBe(7);
    const jobs = await run(bin, ["jobs", "list", "--json"], { env: cliEnv });
    const listed = JSON.parse(jobs.stdout) as { depth: { queued: number }; deadLetters: unknown[] };
    expect(listed.depth.queued).toBe(report.enqueued.length);
    expect(listed.deadLetters).toEqual([]);
    const retry = await run(bin, ["jobs", "retry", "00000000-0000-0000-0000-000000000000"], {
      env: cliEnv,
    }).catch((error: { code: number; stderr: string }) => error);
    expect(retry).toMatchObject({ code: 6, stderr: expect.stringMatching(/no dead letter/) });
    const usage = await run(bin, ["jobs", "frobnicate"], { env: cliEnv }).catch(
      (error: { code: number }) => error,
    );
    expect(usage).toMatchObject({ code: 2 });
  });
});
