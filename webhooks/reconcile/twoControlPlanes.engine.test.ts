/**
 * Two control planes on one platform: two webhook services with their
 * reconcile workers, each with its own data folder, sharing one Postgres and
 * one S3 state backend (the run's local object store), every Stripe event
 * delivered to both. Real engine, the Dokku test host.
 *
 * Ten customers go through Checkout and then change plan (well over 50 signed
 * events, each fired at both services): no tenant ever has two operations at
 * once, judged from the operations table and from the host's command log
 * (every Dokku command on a tenant's names falls inside one of its operations,
 * which never overlap); none is marked failed; all converge. Then the service
 * running an up is SIGKILLed: its Pulumi lock stays in the bucket, and the
 * other service takes the job over, clears the lock of the holder that is gone
 * and completes it.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ListObjectsV2Command } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadAutomationSettings } from "../../automation/settings.ts";
import { lockFolder } from "../../automation/stackLocks.ts";
import { PROJECT } from "../../automation/tenantWorkspaces.ts";
import { tenantNames } from "../../components/tenantNames.ts";
import { parseTenantSpec } from "../../components/tenantSpec.ts";
import type { Instance } from "../../database/instances.ts";
import { type Operation, operationsForInstance } from "../../database/operations.ts";
import { type TestDatabase, testDatabase } from "../../testing/database.ts";
import { dokkuTarget } from "../../testing/dokkuTarget.ts";
import { instanceOfStripeCustomer } from "../../testing/instanceRows.ts";
import { type TestBucket, testBucket } from "../../testing/objectStore.ts";
import { checkOut, type LocalStripe, stripeLocal } from "../../testing/stripeLocal.ts";
import { expectTenant, observeTenant } from "../../testing/tenantObserver.ts";
import { destroyEveryTenant } from "../../testing/tenantTeardown.ts";
import { waitFor } from "../../testing/waitFor.ts";
import {
  automationEnvironment,
  type WebhookServiceChild,
  webhookServiceChild,
} from "../../testing/webhookService.ts";

const target = dokkuTarget();
const CUSTOMERS = 10;
/** Ten tenants' engine operations on a loaded 2-core machine, with room. */
const CONVERGE = { timeoutMs: 600_000 };
const WEBHOOK_SECRET = `whsec_${randomBytes(24).toString("hex")}`;
const PASSPHRASE = randomBytes(16).toString("hex");
const dirs: string[] = [];
let db: TestDatabase;
let local: LocalStripe;
let bucket: TestBucket;
const services: WebhookServiceChild[] = [];

function dataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "mindroom-control-plane-"));
  dirs.push(dir);
  return dir;
}

/** What both control planes share: the state backend and its secrets provider, short lease and queue timings. */
const shared = () => ({
  PULUMI_BACKEND_URL: bucket.backendUrl,
  PULUMI_CONFIG_PASSPHRASE: PASSPHRASE,
  ...bucket.env,
  // Room for ten professional tenants on the test host (placement and the policy pack count it).
  DOKKU_HOSTS: `${target.shellUrl}?memoryMb=262144&cpus=64`,
  MINDROOM_TENANT_LEASE_TTL: "10",
  MINDROOM_AUTOMATION_WORKERS: "2",
  MINDROOM_WORKER_CONCURRENCY: "2",
});

beforeAll(async () => {
  db = await testDatabase();
  local = await stripeLocal({ fresh: true });
  bucket = await testBucket();
  for (let i = 0; i < 2; i++) {
    const service = await webhookServiceChild({
      databaseUrl: db.url,
      stripe: local,
      webhookSecret: WEBHOOK_SECRET,
      dataDir: dataDir(),
      target,
      deletionGrace: "1h",
      env: shared(),
    });
    services.push(service);
    local.addWebhook(`${service.url}/stripe/webhook`, WEBHOOK_SECRET);
  }
});

afterAll(async () => {
  await Promise.all(services.map((s) => s.stop()));
  // A third machine removes the tenants: the stacks' config comes from the database, the state from S3.
  if (db && bucket)
    await destroyEveryTenant(db.pool, {
      ...loadAutomationSettings({
        ...automationEnvironment({ dataDir: dataDir(), target }),
        ...shared(),
        DATABASE_URL: db.url,
      }),
      backendEnv: bucket.env,
    });
  await bucket?.dispose();
  await local?.stop();
  await db?.close();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** Every event delivered, no reconcile due or running, and every instance converged on `ready`. */
async function settled(customers: readonly string[], ready: (i: Instance) => boolean): Promise<Instance[]> {
  await local.idle();
  return waitFor(
    "every tenant to converge",
    async () => {
      const { rows } = await db.pool.query<{ n: number }>(
        `select count(*)::int as n from pgboss.job where name = 'reconcile'
        and (state = 'active' or (state in ('created', 'retry') and start_after <= now()))`,
      );
      if ((rows[0]?.n ?? 1) > 0) return undefined;
      const instances = await Promise.all(customers.map((c) => instanceOfStripeCustomer(db.pool, c)));
      return instances.every(
        (i) => i && i.actualState === "running" && i.appliedSpecHash === i.specHash && ready(i),
      )
        ? (instances as Instance[])
        : undefined;
    },
    CONVERGE,
  );
}

/** Operations of one tenant that overlap in time (none may). */
function overlapping(ops: readonly Operation[]): string[] {
  const spans = ops
    .map((o) => ({ id: o.id, from: (o.startedAt ?? o.createdAt).getTime(), to: o.finishedAt?.getTime() }))
    .sort((a, b) => a.from - b.from);
  const found: string[] = [];
  for (let i = 1; i < spans.length; i++) {
    const before = spans[i - 1];
    const span = spans[i];
    if (before && span && (before.to === undefined || before.to > span.from))
      found.push(`${before.id} and ${span.id}`);
  }
  return found;
}

/** Dokku commands on the tenant's names that ran outside every one of its operations. */
async function commandsOutsideOperations(instance: Instance, ops: readonly Operation[]): Promise<string[]> {
  const log = (await target.commandLog?.()) ?? [];
  const names = Object.values(tenantNames(parseTenantSpec(instance.spec).slug)).filter(
    (n) => n !== instance.slug,
  );
  return log
    .filter((c) => c.argv.some((a) => names.includes(a)))
    .filter((c) => {
      const from = Date.parse(c.at);
      const to = from + c.durationMs;
      return !ops.some(
        (o) => (o.startedAt ?? o.createdAt).getTime() <= from && to <= (o.finishedAt?.getTime() ?? 0),
      );
    })
    .map((c) => `${c.at} ${c.argv.join(" ")}`);
}

function checkout(i: number): Promise<{ customer: string; subscription: string }> {
  return checkOut(local, { email: `twin-${i}@example.com`, name: `Twin ${i}` });
}

async function changePlan(subscription: string, price: string): Promise<void> {
  const sub = await local.stripe.subscriptions.retrieve(subscription);
  await local.stripe.subscriptions.update(subscription, {
    items: [{ id: sub.items.data[0]?.id ?? "", price }],
  });
}

async function eventCount(): Promise<number> {
  let n = 0;
  for await (const _ of local.stripe.events.list({ limit: 100 })) n++;
  return n;
}

describe("two control planes, one database, one S3 backend", () => {
  it("never run one tenant twice at once, mark nothing failed, converge; a killed one's work is taken over", {
    timeout: 1_800_000,
  }, async () => {
    // Ten checkouts, then every customer changes plan while their first up may still run.
    const bought = await Promise.all(Array.from({ length: CUSTOMERS }, (_, i) => checkout(i)));
    await waitFor(
      "every customer to have an instance",
      async () =>
        (await Promise.all(bought.map((b) => instanceOfStripeCustomer(db.pool, b.customer)))).every(Boolean)
          ? true
          : undefined,
      CONVERGE,
    );
    await Promise.all(bought.map((b) => changePlan(b.subscription, "price_mindroom_professional")));
    expect(await eventCount()).toBeGreaterThanOrEqual(50);
    const customers = bought.map((b) => b.customer);
    const instances = await settled(customers, (i) => i.tier === "professional");

    for (const instance of instances) {
      const ops = await operationsForInstance(db.pool, instance.id);
      expect(ops.map((o) => `${o.kind}:${o.status}`).filter((s) => s !== "up:succeeded")).toEqual([]);
      expect(overlapping(ops)).toEqual([]);
      if (target.commandLog) expect(await commandsOutsideOperations(instance, ops)).toEqual([]);
      expectTenant(
        await observeTenant(target, tenantNames(parseTenantSpec(instance.spec).slug)),
        parseTenantSpec(instance.spec),
      );
    }
    // Both control planes did work.
    const { rows: holders } = await db.pool.query<{ pid: number }>(
      "select distinct holder_pid as pid from automation.tenant_leases",
    );
    expect(new Set(holders.map((h) => h.pid))).toEqual(new Set(services.map((s) => s.pid)));

    // A downgrade, slowed on the host so it is caught mid-up; the service running it is killed.
    const victim = bought[0];
    const instance = instances[0];
    if (!victim || !instance) throw new Error("no customer");
    const names = tenantNames(parseTenantSpec(instance.spec).slug);
    const slow = new RegExp(`\\b(${names.runtimeApp}|${names.homeserverApp})\\b`);
    await target.faults?.setDelay(400, { match: slow });
    await changePlan(victim.subscription, "price_mindroom_starter");
    const running = await waitFor(
      "the downgrade to be under way",
      async () => {
        const [latest] = await operationsForInstance(db.pool, instance.id, 1);
        return latest?.status === "running" && (latest.progress?.done ?? 0) >= 1 ? latest : undefined;
      },
      CONVERGE,
    );
    const { rows: lease } = await db.pool.query<{ pid: number }>(
      "select holder_pid as pid from automation.tenant_leases where holder = $1",
      [running.leaseHolder],
    );
    const holder = services.find((s) => s.pid === lease[0]?.pid);
    if (!holder) throw new Error(`no service holds lease ${running.leaseHolder}`);
    await holder.stop("SIGKILL");
    await target.faults?.setDelay(0, { match: slow });
    // Its pulumi died with it, holding the stack's lock in the bucket.
    const locks = await bucket.client.send(
      new ListObjectsV2Command({ Bucket: bucket.bucket, Prefix: `${lockFolder(PROJECT, instance.slug)}/` }),
    );
    expect(locks.Contents?.length ?? 0).toBeGreaterThan(0);

    const [after] = await settled([victim.customer], (i) => i.tier === "starter");
    if (!after) throw new Error("no instance");
    expectTenant(await observeTenant(target, names), parseTenantSpec(after.spec));
    const ops = (await operationsForInstance(db.pool, after.id)).reverse();
    expect(ops.map((o) => `${o.kind}:${o.status}`).slice(-2)).toEqual(["up:failed", "up:succeeded"]);
    expect(ops.at(-2)?.error).toMatch(/^interrupted/);
    expect(overlapping(ops)).toEqual([]);
    const survivor = services.find((s) => s !== holder);
    const { rows: finisher } = await db.pool.query<{ pid: number }>(
      "select holder_pid as pid from automation.tenant_leases where holder = $1",
      [ops.at(-1)?.leaseHolder],
    );
    expect(finisher[0]?.pid).toBe(survivor?.pid);
    const left = await bucket.client.send(
      new ListObjectsV2Command({ Bucket: bucket.bucket, Prefix: `${lockFolder(PROJECT, instance.slug)}/` }),
    );
    expect(left.Contents ?? []).toEqual([]);
  });
});
