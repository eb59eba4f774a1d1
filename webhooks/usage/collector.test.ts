/**
 * The usage collector on a real Postgres, with the host measurement replaced by a recording
 * function (the real one runs against the Dokku test host in automation/tenantUsage.test.ts):
 * which tenants are measured, what is recorded (null stays "not measured"), which quota warnings
 * are queued and that each is queued once per metric, threshold and period.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, expect, test } from "vitest";
import type { HostAccess } from "../../automation/hostShell.ts";
import type { TenantUsage } from "../../automation/tenantUsage.ts";
import type { Slug } from "../../components/tenantNames.ts";
import { tier } from "../../components/tiers.ts";
import { upsertCustomerByStripeId } from "../../database/customers.ts";
import { listEmails } from "../../database/emailOutbox.ts";
import { createInstance, recordActual, updateDesired } from "../../database/instances.ts";
import { upsertSubscription } from "../../database/subscriptions.ts";
import { usageForInstance } from "../../database/usage.ts";
import { silentLogger } from "../../logging/logger.ts";
import { type TestDatabase, testDatabase } from "../../testing/database.ts";
import { sampleSpecInput } from "../../testing/tenantSamples.ts";
import { collectUsage } from "./collector.ts";
import { quotaPeriod, quotaWarnings } from "./quotaWarnings.ts";

let db: TestDatabase;
beforeAll(async () => {
  db = await testDatabase();
});
afterAll(async () => {
  await db?.close();
});

const GiB = 1024 ** 3;
const periodEnd = new Date("2027-01-04T10:00:00.000Z");

/** A customer with a starter subscription and an instance in `state`. */
async function tenant(state: "running" | "suspended" | "deleted" | "provisioning") {
  const slug = `col-${randomUUID().slice(0, 6)}`;
  const customer = await upsertCustomerByStripeId(db.pool, {
    stripeCustomerId: `cus_${slug}`,
    email: `${slug}@example.com`,
    displayName: "Col Lector",
  });
  await upsertSubscription(db.pool, {
    id: `sub_${slug}`,
    customerId: customer.id,
    stripeCustomerId: `cus_${slug}`,
    status: "active",
    priceId: "price_mindroom_starter",
    tier: "starter",
    cancelAtPeriodEnd: false,
    currentPeriodEnd: periodEnd,
    canceledAt: null,
    endedAt: null,
    trialEnd: null,
    stripeCreated: new Date(),
    lastSyncedAt: new Date(),
  });
  const row = await createInstance(db.pool, {
    customerId: customer.id,
    slug,
    stackName: slug,
    tier: "starter",
    desiredState: "running",
  });
  await updateDesired(db.pool, row.id, {
    spec: sampleSpecInput({ slug, tier: "starter" }) as unknown as Record<string, unknown>,
    specHash: "h",
  });
  await recordActual(db.pool, row.id, { actualState: state, appliedSpecHash: "h" });
  return { slug, instanceId: row.id, customerId: customer.id, email: `${slug}@example.com` };
}

function measurer(figures: Map<string, TenantUsage | Error>) {
  const calls: { url: string; slug: Slug; key: string }[] = [];
  const measure = async (access: HostAccess, slug: Slug): Promise<TenantUsage> => {
    calls.push({ url: access.url, slug, key: access.privateKey });
    const figure = figures.get(slug) ?? { storageBytes: null, agents: null, messages: null };
    if (figure instanceof Error) throw figure;
    return figure;
  };
  return { calls, measure };
}

const deps = (measure: ReturnType<typeof measurer>["measure"], day: string) => ({
  pool: db.pool,
  secrets: () => ({ sshPrivateKey: "the-hosts-key" }),
  log: silentLogger,
  measure,
  now: () => new Date(`${day}T12:00:00.000Z`),
});

test("measures running and suspended tenants on their hosts, records the day, keeps unmeasured figures null", async () => {
  const running = await tenant("running");
  const suspended = await tenant("suspended");
  const gone = await tenant("deleted");
  const starting = await tenant("provisioning");
  const { calls, measure } = measurer(
    new Map([
      [running.slug, { storageBytes: 2 * GiB, agents: 1, messages: null }],
      [suspended.slug, { storageBytes: null, agents: null, messages: null }],
    ]),
  );
  const results = await collectUsage(deps(measure, "2026-12-04"));
  const measured = calls.map((c) => c.slug);
  expect(measured).toEqual(expect.arrayContaining([running.slug, suspended.slug]));
  expect(measured).not.toContain(gone.slug);
  expect(measured).not.toContain(starting.slug);
  expect(calls.find((c) => c.slug === running.slug)).toMatchObject({
    url: "ssh://root@127.0.0.1:2222",
    key: "the-hosts-key",
  });
  expect(results.find((r) => r.slug === running.slug)).toMatchObject({
    day: "2026-12-04",
    error: null,
    warnings: 0,
  });

  expect(await usageForInstance(db.pool, running.instanceId)).toEqual([
    { instanceId: running.instanceId, day: "2026-12-04", agents: 1, messages: null, storageBytes: 2 * GiB },
  ]);
  expect(await usageForInstance(db.pool, suspended.instanceId)).toEqual([
    { instanceId: suspended.instanceId, day: "2026-12-04", agents: null, messages: null, storageBytes: null },
  ]);
});

test("a host that cannot be reached is reported and does not stop the others", async () => {
  const broken = await tenant("running");
  const fine = await tenant("running");
  const { measure } = measurer(
    new Map<string, TenantUsage | Error>([
      [broken.slug, new Error("ssh to ssh://root@127.0.0.1:2222 failed: Connection refused")],
      [fine.slug, { storageBytes: 1024, agents: 0, messages: null }],
    ]),
  );
  const results = await collectUsage(deps(measure, "2026-12-04"));
  expect(results.find((r) => r.slug === broken.slug)).toMatchObject({
    usage: null,
    error: /Connection refused/,
  });
  expect(await usageForInstance(db.pool, fine.instanceId)).toHaveLength(1);
});

test("quota warnings at 80 % and 100 %, each once per period, as emails with the figures", async () => {
  const t = await tenant("running");
  const figures = new Map<string, TenantUsage>([
    [t.slug, { storageBytes: 8.5 * GiB, agents: 3, messages: null }],
  ]);
  const { measure } = measurer(figures);
  await collectUsage(deps(measure, "2026-12-04"));
  await collectUsage(deps(measure, "2026-12-05")); // same billing period: nothing new
  // One transaction queues a day's warnings: order them by metric.
  const sorted = async () =>
    (await listEmails(db.pool, { customerId: t.customerId })).sort(
      (a, b) =>
        a.createdAt.getTime() - b.createdAt.getTime() ||
        String(a.facts.metric).localeCompare(String(b.facts.metric)),
    );
  let emails = await sorted();
  expect(emails.map((e) => [e.kind, e.facts.metric, e.facts.percent])).toEqual([
    ["quota_warning", "agents", 100],
    ["quota_warning", "storage", 80],
  ]);
  expect(emails[1]).toMatchObject({
    recipient: t.email,
    eventKey: `${t.instanceId}:storage:80:period-2027-01-04T10:00:00.000Z`,
    facts: { used: "8.5 GB", limit: "10 GB", day: "2026-12-04", tier: "starter", slug: t.slug },
  });
  expect(emails[0]?.facts).toMatchObject({ used: "3", limit: "3" });

  // Storage reaches the limit: the 100 % warning is its own email.
  figures.set(t.slug, { storageBytes: 10 * GiB, agents: 3, messages: null });
  await collectUsage(deps(measure, "2026-12-06"));
  emails = await sorted();
  expect(emails.map((e) => [e.facts.metric, e.facts.percent])).toEqual([
    ["agents", 100],
    ["storage", 80],
    ["storage", 100],
  ]);
});

test("thresholds and periods", () => {
  const starter = tier("starter");
  expect(quotaWarnings(starter, { storageBytes: 7.9 * GiB, agents: 2, messages: 799 })).toEqual([]);
  expect(quotaWarnings(starter, { storageBytes: 8 * GiB, agents: null, messages: 1000 })).toEqual([
    { metric: "storage", percent: 80, used: 8 * GiB, limit: 10 * GiB },
    { metric: "messages", percent: 100, used: 1000, limit: 1000 },
  ]);
  // Not measured is not a warning; unlimited never warns.
  expect(quotaWarnings(starter, { storageBytes: null, agents: null, messages: null })).toEqual([]);
  expect(
    quotaWarnings(tier("enterprise"), { storageBytes: 10 ** 15, agents: 500, messages: 10 ** 9 }),
  ).toEqual([]);
  expect(quotaPeriod("messages", "2026-12-04", periodEnd)).toBe("2026-12-04");
  expect(quotaPeriod("storage", "2026-12-04", periodEnd)).toBe("period-2027-01-04T10:00:00.000Z");
  expect(quotaPeriod("agents", "2026-12-04", null)).toBe("month-2026-12");
});
