/**
 * The reconcile handler on real Postgres and the local Stripe API, with the
 * automation layer replaced by a recording double of its narrow port (the
 * real engine runs in reconcile.engine.test.ts): which operations a journey
 * produces, what the database records (the emails it owes the customer
 * included, in the outbox), and that a job with nothing to change records
 * nothing.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadAutomationSettings } from "../../automation/settings.ts";
import { leaseTimings, TenantBusyError, TenantLeases } from "../../automation/tenantLease.ts";
import { parseSlug } from "../../components/tenantNames.ts";
import { providerKeySealingSeed } from "../../components/tenantSecrets.ts";
import { tenantFootprint } from "../../components/tiers.ts";
import { auditForInstance } from "../../database/auditLog.ts";
import { findCustomerByStripeId } from "../../database/customers.ts";
import { listEmails } from "../../database/emailOutbox.ts";
import { readHostPool, saveHost, setHostSchedule } from "../../database/hosts.ts";
import {
  findInstanceByCustomer,
  type Instance,
  requestRestart,
  setBridges,
  setHold,
} from "../../database/instances.ts";
import { operationsForInstance, startOperation } from "../../database/operations.ts";
import { removeProviderKey, setProviderKey } from "../../database/providerKeys.ts";
import { seal, sealingKeyPair } from "../../database/sealedSecrets.ts";
import { subscriptionsForCustomer } from "../../database/subscriptions.ts";
import { silentLogger } from "../../logging/logger.ts";
import { type TestDatabase, testDatabase } from "../../testing/database.ts";
import { RecordingOperations } from "../../testing/recordingOperations.ts";
import { type LocalStripe, stripeLocal } from "../../testing/stripeLocal.ts";
import { SAMPLE_HOST_KEY, SAMPLE_ROOT_SECRET } from "../../testing/tenantSamples.ts";
import { retryBlockedTenants } from "../capacityRetry.ts";
import type { ReconcileJob, ReconcileRequest } from "../queue.ts";
import { ReconcileOperationError } from "./applyOperation.ts";
import { upgradeRefusedMessage, WAITING_FOR_CAPACITY } from "./capacity.ts";
import { UnknownPriceError } from "./desiredState.ts";
import { loadReconcileSettings } from "./settings.ts";
import { failInterruptedOperations } from "./store.ts";
import { type ReconcileDeps, reconcileHandler } from "./worker.ts";

const HOST = "ssh://root@127.0.0.1:2222";
const dataDir = mkdtempSync(join(tmpdir(), "mindroom-worker-"));
writeFileSync(join(dataDir, "known_hosts"), `[127.0.0.1]:2222 ${SAMPLE_HOST_KEY}\n`);
const automation = loadAutomationSettings({
  MINDROOM_DATA_DIR: dataDir,
  MINDROOM_ROOT_SECRET: SAMPLE_ROOT_SECRET,
  DOKKU_HOSTS: `${HOST}?memoryMb=65536&cpus=8`,
});
const reconcileSettings = loadReconcileSettings(automation, {
  DOKKU_KNOWN_HOSTS: join(dataDir, "known_hosts"),
  MINDROOM_DELETION_GRACE: "1h",
});

let db: TestDatabase;
let local: LocalStripe;
let jobCounter = 0;

beforeAll(async () => {
  db = await testDatabase();
  local = await stripeLocal({ fresh: true });
});
afterAll(async () => {
  await db?.close();
  await local?.stop();
});

function harness(now?: () => Date, options: { leases?: TenantLeases; leaseWaitMs?: number } = {}) {
  const operations = new RecordingOperations(options.leases ? { leases: options.leases } : {});
  const enqueued: ReconcileRequest[] = [];
  const deps: ReconcileDeps = {
    db,
    queue: {
      enqueue: async (job) => {
        enqueued.push(job);
      },
    },
    operations,
    stripe: local.stripe,
    settings: { automation, reconcile: reconcileSettings },
    log: silentLogger,
    progressIntervalMs: 10,
    ...(options.leaseWaitMs === undefined ? {} : { leaseWaitMs: options.leaseWaitMs }),
    ...(now ? { now } : {}),
  };
  const handle = reconcileHandler(deps);
  const run = (customerKey: string, reason = "customer.subscription.updated") =>
    handle(stripeJob(customerKey, reason));
  return { operations, enqueued, run, deps };
}

/** A first delivery of a reconcile job that a Stripe event queued for the customer. */
function stripeJob(customerKey: string, reason: string): ReconcileJob {
  return {
    id: `job-${++jobCounter}`,
    customerKey,
    trigger: "stripe",
    reason,
    eventId: undefined,
    requestedBy: undefined,
    requestId: `req-${jobCounter}`,
    attempt: 0,
    retryLimit: 5,
    queuedAt: new Date(),
    signal: new AbortController().signal,
  };
}

/** A customer who went through Checkout for `price`: an active subscription. */
async function checkout(email: string, price = "price_mindroom_starter") {
  const session = await local.stripe.checkout.sessions.create({
    mode: "subscription",
    line_items: [{ price, quantity: 1 }],
    customer_email: email,
    success_url: "https://app.mindroom.test/welcome",
  });
  const { session: done } = await local.controls.completeCheckout(session.id, { email, name: "Jane Doe" });
  return { customer: String(done.customer), subscription: String(done.subscription) };
}

async function instanceOf(customerKey: string): Promise<Instance> {
  const customer = await findCustomerByStripeId(db.pool, customerKey);
  const instance = customer ? await findInstanceByCustomer(db.pool, customer.id) : null;
  if (!instance) throw new Error(`no instance for ${customerKey}`);
  return instance;
}

/** The emails decided for the customer, oldest first: kind and facts. */
async function emailsOf(customerKey: string) {
  const customer = await findCustomerByStripeId(db.pool, customerKey);
  const emails = await listEmails(db.pool, { customerId: customer?.id ?? "" });
  return emails.reverse().map((e) => ({ kind: e.kind, to: e.recipient, facts: e.facts, key: e.eventKey }));
}

const operationsOf = async (customerKey: string) =>
  (await operationsForInstance(db.pool, (await instanceOf(customerKey)).id)).reverse();

describe("the reconcile handler", () => {
  it("provisions a paying customer once, records it, and skips what is already applied", async () => {
    const { operations, run } = harness();
    const { customer, subscription } = await checkout("jane.doe@example.com");

    const first = await run(customer, "checkout.session.completed");
    expect(first.action).toBe("up");
    // Duplicates and any other event of the same state: nothing to do, nothing recorded.
    expect((await run(customer, "customer.subscription.created")).action).toBe("skipped");
    expect((await run(customer, "checkout.session.completed")).action).toBe("skipped");
    expect(operations.calls.map((c) => c.op)).toEqual(["apply"]);

    const instance = await instanceOf(customer);
    expect(() => parseSlug(instance.slug)).not.toThrow();
    expect(instance.slug).toMatch(/^jane-doe-[a-z0-9]{6}$/);
    expect(instance).toMatchObject({
      tier: "starter",
      desiredState: "running",
      actualState: "running",
      host: HOST,
      stackName: instance.slug,
      warning: null,
      deletionDueAt: null,
      lastError: null,
      outputs: { tier: "starter", status: "running" },
    });
    expect(instance.appliedSpecHash).toBe(instance.specHash);
    expect(instance.spec).toMatchObject({ slug: instance.slug, tier: "starter", suspended: false });
    expect(JSON.stringify(instance.spec)).not.toContain(SAMPLE_ROOT_SECRET);

    const ops = await operationsOf(customer);
    expect(ops.map((o) => [o.kind, o.trigger, o.status])).toEqual([["up", "stripe", "succeeded"]]);
    // The request that queued the job is on the operation row, as its log lines name it.
    expect(ops[0]?.requestId).toMatch(/^req-\d+$/);
    expect(ops[0]?.outputs).toMatchObject({ status: "running" });
    expect(ops[0]?.progress?.message).toBe("succeeded");
    expect(ops[0]?.durationMs).toBeGreaterThanOrEqual(0);
    expect(instance.lastOperationId).toBe(ops[0]?.id);

    const customerRow = await findCustomerByStripeId(db.pool, customer);
    expect(customerRow).toMatchObject({ email: "jane.doe@example.com" });
    const projection = await subscriptionsForCustomer(db.pool, customerRow?.id ?? "");
    expect(projection.map((s) => [s.id, s.status, s.tier])).toEqual([[subscription, "active", "starter"]]);

    const trail = (await auditForInstance(db.pool, instance.id)).map((a) => [a.actor, a.action]).reverse();
    expect(trail).toEqual([
      ["stripe", "instance.created"],
      ["stripe", "instance.provision"],
    ]);

    // One welcome, with the instance's URLs, however often the customer is reconciled again.
    expect(await emailsOf(customer)).toEqual([
      {
        kind: "welcome",
        to: "jane.doe@example.com",
        key: instance.id,
        facts: {
          name: "Jane Doe",
          slug: instance.slug,
          tier: "starter",
          email: "jane.doe@example.com",
          urls: {
            app: `https://${instance.slug}.mindroom.test`,
            api: `https://${instance.slug}.api.mindroom.test`,
            matrix: `https://${instance.slug}.matrix.mindroom.test`,
          },
        },
      },
    ]);
  });

  it("upgrades in one operation; past_due keeps running with a warning and no operation; unpaid suspends; paying resumes", async () => {
    const { operations, run } = harness();
    const { customer, subscription } = await checkout("upgrade@example.com");
    await run(customer);

    const sub = await local.stripe.subscriptions.retrieve(subscription);
    await local.stripe.subscriptions.update(subscription, {
      items: [{ id: sub.items.data[0]?.id ?? "", price: "price_mindroom_professional" }],
    });
    expect((await run(customer)).action).toBe("up");
    expect(operations.calls.at(-1)?.spec?.tier).toBe("professional");

    await local.controls.paymentFailed(subscription);
    expect((await run(customer, "invoice.payment_failed")).action).toBe("skipped");
    expect((await instanceOf(customer)).warning).toMatch(/^payment past due/);

    await local.controls.retriesExhausted(subscription, "unpaid");
    expect((await run(customer)).action).toBe("up");
    expect(operations.calls.at(-1)?.spec?.suspended).toBe(true);
    expect(await instanceOf(customer)).toMatchObject({ actualState: "suspended", warning: null });

    await local.controls.paymentSucceeded(subscription);
    expect((await run(customer, "invoice.paid")).action).toBe("up");
    expect(operations.calls.at(-1)?.spec?.suspended).toBe(false);
    expect((await run(customer, "invoice.paid")).action).toBe("skipped");

    const trail = (await auditForInstance(db.pool, (await instanceOf(customer)).id))
      .map((a) => a.action)
      .reverse();
    expect(trail).toEqual([
      "instance.created",
      "instance.provision",
      "instance.update",
      "instance.suspend",
      "instance.resume",
    ]);
    expect((await operationsOf(customer)).map((o) => o.status)).toEqual(Array(4).fill("succeeded"));

    // Each event its email, once: reconciling again (above, and here) adds none.
    await run(customer, "invoice.paid");
    const emails = await emailsOf(customer);
    expect(emails.map((e) => e.kind)).toEqual(["welcome", "payment_failed", "suspended", "resumed"]);
    const period = (await local.stripe.subscriptions.retrieve(subscription)).items.data[0]
      ?.current_period_end;
    expect(emails[1]).toMatchObject({
      key: `${subscription}:${new Date((period ?? 0) * 1000).toISOString()}`,
      facts: { tier: "professional", periodEnd: new Date((period ?? 0) * 1000).toISOString() },
    });
    expect(emails[2]?.facts).toMatchObject({ cause: "payment", reason: null });
    const ops = await operationsOf(customer);
    expect(emails[2]?.key).toBe(ops[2]?.id);
    expect(emails[3]?.key).toBe(ops[3]?.id);
  });

  it("schedules the deletion after the grace, deletes only when due, and a resubscription cancels it", async () => {
    let clock = Date.now();
    const { operations, enqueued, run } = harness(() => new Date(clock));
    const { customer, subscription } = await checkout("leaving@example.com");
    await run(customer);

    const canceled = await local.stripe.subscriptions.cancel(subscription);
    const due = new Date((canceled.ended_at ?? 0) * 1000 + 3600_000);
    expect((await run(customer, "customer.subscription.deleted")).action).toBe("up");
    expect(await instanceOf(customer)).toMatchObject({
      desiredState: "suspended",
      actualState: "suspended",
      deletionDueAt: due,
    });
    expect(enqueued.at(-1)).toMatchObject({ customerKey: customer, startAfter: due });

    // Just before the due time: still kept.
    clock = due.getTime() - 1000;
    expect((await run(customer)).action).toBe("skipped");
    expect(operations.calls.filter((c) => c.op === "destroy")).toEqual([]);

    // A resubscription before the due date cancels the deletion.
    const again = await checkout("leaving@example.com");
    expect(again.customer).not.toBe(customer);
    const resubscribed = await local.stripe.subscriptions.create({
      customer,
      items: [{ price: "price_mindroom_starter" }],
      default_payment_method: String(
        (
          (await local.stripe.customers.retrieve(customer)) as {
            invoice_settings: { default_payment_method: string };
          }
        ).invoice_settings.default_payment_method,
      ),
    });
    expect(resubscribed.status).toBe("active");
    expect((await run(customer)).action).toBe("up");
    expect(await instanceOf(customer)).toMatchObject({ actualState: "running", deletionDueAt: null });

    // Cancelled again, and this time the grace runs out: destroy, exactly once.
    const ended = await local.stripe.subscriptions.cancel(resubscribed.id);
    await run(customer);
    clock = (ended.ended_at ?? 0) * 1000 + 3600_000;
    expect((await run(customer, "scheduled deletion")).action).toBe("destroy");
    // Deleted and nothing paid for: nothing left to do.
    expect((await run(customer, "scheduled deletion")).action).toBe("none");
    expect(operations.calls.filter((c) => c.op === "destroy")).toHaveLength(1);
    expect(await instanceOf(customer)).toMatchObject({
      desiredState: "deleted",
      actualState: "deleted",
      outputs: null,
    });
    const trail = (await auditForInstance(db.pool, (await instanceOf(customer)).id))
      .map((a) => a.action)
      .reverse();
    expect(trail).toEqual([
      "instance.created",
      "instance.provision",
      "deletion.scheduled",
      "instance.suspend",
      "deletion.cancelled",
      "instance.resume",
      "deletion.scheduled",
      "instance.suspend",
      "instance.delete",
    ]);

    // The first cancellation's notice, the resume, the second's notice (its own date), the deletion.
    const emails = await emailsOf(customer);
    expect(emails.map((e) => e.kind)).toEqual([
      "welcome",
      "deletion_scheduled",
      "resumed",
      "deletion_scheduled",
      "deleted",
    ]);
    expect(emails[1]?.facts).toMatchObject({
      at: new Date((canceled.ended_at ?? 0) * 1000).toISOString(),
      deletionDueAt: due.toISOString(),
    });
    expect(emails[3]?.facts).toMatchObject({
      at: new Date((ended.ended_at ?? 0) * 1000).toISOString(),
      deletionDueAt: new Date((ended.ended_at ?? 0) * 1000 + 3600_000).toISOString(),
    });
  });

  it("records a failed operation and throws so the queue retries; the retry converges", async () => {
    const { operations, run } = harness();
    const { customer } = await checkout("flaky@example.com");
    operations.failNext = true;
    await expect(run(customer)).rejects.toThrow(ReconcileOperationError);
    expect(await instanceOf(customer)).toMatchObject({
      actualState: "failed",
      lastError: "CommandError: ssh: connect to host refused",
    });
    expect((await run(customer)).action).toBe("up");
    expect(await instanceOf(customer)).toMatchObject({ actualState: "running", lastError: null });
    const ops = await operationsOf(customer);
    expect(ops.map((o) => [o.status, o.error])).toEqual([
      ["failed", "CommandError: ssh: connect to host refused"],
      ["succeeded", null],
    ]);
    // Told it is delayed (retries remain), then welcomed.
    expect((await emailsOf(customer)).map((e) => e.kind)).toEqual(["provisioning_delayed", "welcome"]);
  });

  it("a second delivery while the first still runs leaves it alone and is retried; a holder that is gone is marked interrupted", async () => {
    const leases = TenantLeases.open(db.url, leaseTimings(30_000));
    try {
      const { operations, run } = harness(undefined, { leases, leaseWaitMs: 300 });
      const { customer } = await checkout("twice@example.com");
      let letGo = () => {};
      const held = new Promise<void>((resolve) => {
        letGo = resolve;
      });
      let entered = () => {};
      const inApply = new Promise<void>((resolve) => {
        entered = resolve;
      });
      operations.beforeApply = () => {
        entered();
        return held;
      };
      const first = run(customer, "checkout.session.completed");
      await inApply;
      // The queue delivers the same job again (its expiry or heartbeat judged the first dead).
      await expect(run(customer, "checkout.session.completed")).rejects.toThrow(TenantBusyError);
      expect((await operationsOf(customer)).map((o) => o.status)).toEqual(["running"]);
      letGo();
      expect((await first).action).toBe("up");
      expect((await operationsOf(customer)).map((o) => o.status)).toEqual(["succeeded"]);

      // An operation whose lease is still held is running somewhere: left alone; once its lease
      // is gone (released, or expired because its holder died) it is marked interrupted.
      const instance = await instanceOf(customer);
      const lease = await leases.acquire(instance.slug, "up");
      const orphan = await startOperation(db.pool, {
        instanceId: instance.id,
        kind: "up",
        trigger: "retry",
        leaseHolder: lease.holder,
      });
      expect(await failInterruptedOperations(db.pool, instance.id)).toBe(0);
      await lease.release();
      expect(await failInterruptedOperations(db.pool, instance.id)).toBe(1);
      const marked = (await operationsOf(customer)).find((o) => o.id === orphan.id);
      expect([marked?.status, marked?.error]).toEqual([
        "failed",
        "interrupted: the worker stopped during the operation; a retry took over",
      ]);
    } finally {
      await leases.close();
    }
  });

  it("refuses an unknown price with a typed error and provisions nothing", async () => {
    const { operations, run } = harness();
    const { customer } = await checkout("mystery@example.com", "price_mindroom_enterprise");
    const strict = reconcileSettings.priceTiers;
    const without = new Map([...strict].filter(([price]) => price !== "price_mindroom_enterprise"));
    const handle = reconcileHandler({
      db,
      queue: { enqueue: async () => undefined },
      operations,
      stripe: local.stripe,
      settings: { automation, reconcile: { ...reconcileSettings, priceTiers: without } },
      log: silentLogger,
    });
    await expect(
      handle({
        id: "job-x",
        customerKey: customer,
        trigger: "stripe",
        reason: "test",
        eventId: undefined,
        requestedBy: undefined,
        requestId: undefined,
        attempt: 0,
        retryLimit: 0,
        queuedAt: new Date(),
        signal: new AbortController().signal,
      }),
    ).rejects.toThrow(UnknownPriceError);
    expect(operations.calls).toEqual([]);
    expect((await run(customer)).action).toBe("up");
  });

  it("honours an operator's hold until it is lifted, and runs a restart request exactly once", async () => {
    const { operations, run } = harness();
    const { customer } = await checkout("held@example.com");
    await run(customer);
    const id = (await instanceOf(customer)).id;

    await setHold(db.pool, id, "abuse report #12");
    expect((await run(customer, "operator.suspend")).action).toBe("up");
    expect(operations.calls.at(-1)?.spec?.suspended).toBe(true);
    expect(await instanceOf(customer)).toMatchObject({
      desiredState: "suspended",
      actualState: "suspended",
      deletionDueAt: null,
      hold: { reason: "abuse report #12" },
    });
    // Stripe events while held change nothing: the subscription still says "run".
    expect((await run(customer, "invoice.paid")).action).toBe("skipped");

    await setHold(db.pool, id, null);
    expect((await run(customer, "operator.resume")).action).toBe("up");
    expect(operations.calls.at(-1)?.spec?.suspended).toBe(false);
    expect(await instanceOf(customer)).toMatchObject({ actualState: "running", hold: null });

    // A restart is one up carrying the new generation; the same generation again is nothing.
    expect(operations.calls.at(-1)?.spec?.restartGeneration).toBeUndefined();
    await requestRestart(db.pool, id);
    expect((await run(customer, "restart requested by the customer")).action).toBe("up");
    expect(operations.calls.at(-1)?.spec?.restartGeneration).toBe(1);
    expect((await run(customer, "restart requested by the customer")).action).toBe("skipped");

    const trail = (await auditForInstance(db.pool, id)).map((a) => a.action).reverse();
    expect(trail).toEqual([
      "instance.created",
      "instance.provision",
      "instance.suspend",
      "instance.resume",
      "instance.restart",
    ]);
    const emails = await emailsOf(customer);
    expect(emails.map((e) => e.kind)).toEqual(["welcome", "suspended", "resumed"]);
    expect(emails[1]?.facts).toMatchObject({ cause: "hold", reason: "abuse report #12" });
  });
});

describe("capacity", () => {
  // Hosts of their own (the tests above placed their tenants on HOST, cordoned here), so what the
  // others placed does not count against them; they come and grow as `mindroom-ops hosts add` does.
  const SMALL = "ssh://root@127.0.0.2:2222";
  const SPARE = "ssh://root@127.0.0.3:2222";
  const OWN = "ssh://root@127.0.0.4:2222";
  const footprint = (tier: "free" | "starter") =>
    tenantFootprint({ tier, homeserver: "tuwunel", backups: false });
  const starter = footprint("starter");
  const addHost = (url: string, memoryMb: number, cpus = 4) =>
    saveHost(db.pool, {
      url,
      address: new URL(url.replace("ssh://", "http://")).hostname,
      hostKey: SAMPLE_HOST_KEY,
      memoryMb,
      cpus,
      addedBy: "operator:ops@example.com",
    });
  const retry = (enqueued: ReconcileRequest[]) =>
    retryBlockedTenants({
      db,
      queue: { enqueue: async (job) => void enqueued.push(job) },
      hosts: () => readHostPool(db.pool),
      settings: reconcileSettings,
      log: silentLogger,
    });

  beforeAll(async () => {
    await harness().run("cus_capacity_seed"); // seeds HOST from DOKKU_HOSTS, as the worker does
    await setHostSchedule(db.pool, HOST, "cordoned", "capacity tests");
  });
  afterAll(async () => {
    await setHostSchedule(db.pool, HOST, "active", null);
  });

  it("a full pool leaves a paid tenant waiting for capacity (no operation, no failure), until a host is added", async () => {
    await addHost(SMALL, starter.memoryMb, 2);
    const h = harness();
    const { customer: occupant } = await checkout("occupant@example.com");
    expect((await h.run(occupant)).action).toBe("up");
    expect((await instanceOf(occupant)).host).toBe(SMALL);

    const { customer } = await checkout("waiting@example.com");
    expect(await h.run(customer)).toMatchObject({ action: "waiting" });
    expect(await h.run(customer)).toMatchObject({ action: "waiting" });
    const waiting = await instanceOf(customer);
    expect(waiting).toMatchObject({
      actualState: "waiting_for_capacity",
      blockedReason: WAITING_FOR_CAPACITY,
      host: null,
      tier: "starter",
    });
    expect(await operationsOf(customer)).toEqual([]);
    const trail = (await auditForInstance(db.pool, waiting.id)).map((a) => a.action).reverse();
    expect(trail).toEqual(["instance.created", "instance.waiting_for_capacity"]);
    expect((await auditForInstance(db.pool, waiting.id))[0]?.reason).toMatch(/no Dokku host has \d+ MB/);

    // Nothing fits yet: the retry queues nobody.
    const nothing: ReconcileRequest[] = [];
    expect(await retry(nothing)).toEqual([]);
    expect(nothing).toEqual([]);

    // An operator adds a host: the retry finds room and queues exactly that customer.
    await addHost(SPARE, 65536, 8);
    const queued: ReconcileRequest[] = [];
    expect(await retry(queued)).toEqual([waiting.slug]);
    expect(queued).toMatchObject([{ customerKey: customer, trigger: "sweep" }]);
    expect((await h.run(customer)).action).toBe("up");
    expect(await instanceOf(customer)).toMatchObject({
      actualState: "running",
      host: SPARE,
      blockedReason: null,
    });
    expect((await auditForInstance(db.pool, waiting.id)).map((a) => a.action)).toContain(
      "instance.capacity_found",
    );
  });

  it("refuses an upgrade its host cannot hold before anything changes, and applies it once there is room", async () => {
    for (const url of [SMALL, SPARE]) await setHostSchedule(db.pool, url, "cordoned", "capacity tests");
    // A host the two fill up exactly.
    await addHost(OWN, starter.memoryMb + footprint("free").memoryMb);
    const { customer: neighbour } = await checkout("neighbour@example.com", "price_mindroom_free");
    const { customer, subscription } = await checkout("grower@example.com");
    const h = harness();
    expect((await h.run(customer)).action).toBe("up");
    expect((await h.run(neighbour)).action).toBe("up");
    expect((await instanceOf(customer)).host).toBe(OWN);
    const calls = h.operations.calls.length;

    const sub = await local.stripe.subscriptions.retrieve(subscription);
    await local.stripe.subscriptions.update(subscription, {
      items: [{ id: sub.items.data[0]?.id ?? "", price: "price_mindroom_professional" }],
    });
    expect((await h.run(customer)).action).toBe("skipped");
    expect((await h.run(customer)).action).toBe("skipped");
    expect(h.operations.calls.length).toBe(calls);
    const refused = await instanceOf(customer);
    expect(refused.blockedReason).toBe(upgradeRefusedMessage("starter", "professional"));
    expect(refused).toMatchObject({ tier: "professional", actualState: "running" });
    expect(refused.spec?.tier).toBe("starter");
    const actions = (await auditForInstance(db.pool, refused.id)).map((a) => a.action);
    expect(actions.filter((a) => a === "instance.upgrade_refused")).toHaveLength(1);

    // The host gets more memory: the retry sees room, the next reconcile applies the upgrade.
    const nothing: ReconcileRequest[] = [];
    expect(await retry(nothing)).not.toContain(refused.slug);
    await addHost(OWN, 65536, 8);
    const queued: ReconcileRequest[] = [];
    expect(await retry(queued)).toContain(refused.slug);
    expect((await h.run(customer)).action).toBe("up");
    expect(h.operations.calls.at(-1)?.spec?.tier).toBe("professional");
    expect(await instanceOf(customer)).toMatchObject({ blockedReason: null, tier: "professional" });
  });
});

describe("what the customer sets up in the portal", () => {
  const sealTo = sealingKeyPair(providerKeySealingSeed(SAMPLE_ROOT_SECRET)).publicKey;

  it("hands their model keys to the stack as secrets, applies a replaced key, and skips when nothing changed", async () => {
    const { operations, run } = harness();
    const { customer } = await checkout("keys@example.com");
    await run(customer);
    expect(operations.calls.at(-1)?.providerKeys).toEqual({});
    const row = await findCustomerByStripeId(db.pool, customer);
    const customerId = row?.id ?? "";

    /** The customer saves `key` in the portal; the next reconcile hands exactly it to the stack. */
    const saveKey = async (key: string) => {
      await setProviderKey(db.pool, {
        customerId,
        provider: "openai",
        sealed: seal(sealTo, key),
        last4: key.slice(-4),
      });
      expect((await run(customer, "customer.provider_key")).action).toBe("up");
      expect(operations.calls.at(-1)?.providerKeys).toEqual({ OPENAI_API_KEY: key });
    };
    await saveKey("sk-first-0001");
    // Secrets stay out of the spec; only the hash moves.
    expect(JSON.stringify((await instanceOf(customer)).spec)).not.toContain("sk-first");
    expect((await run(customer)).action).toBe("skipped");

    await saveKey("sk-second-0002");

    await removeProviderKey(db.pool, customerId, "openai");
    expect((await run(customer, "customer.provider_key")).action).toBe("up");
    expect(operations.calls.at(-1)?.providerKeys).toEqual({});
    expect((await run(customer)).action).toBe("skipped");
  });

  it("gives a tier's tenants the operator's managed key for providers the customer has no key for", async () => {
    const { operations, run } = harness();
    const settings = loadReconcileSettings(automation, {
      DOKKU_KNOWN_HOSTS: join(dataDir, "known_hosts"),
      MINDROOM_MANAGED_PROVIDER_KEYS:
        "starter:openrouter=sk-or-managed-starter,professional:openrouter=sk-or-pro",
    });
    expect(() =>
      loadReconcileSettings(automation, {
        MINDROOM_MANAGED_PROVIDER_KEYS: "gold:openrouter=sk-secret-value",
      }),
    ).toThrow(/^MINDROOM_MANAGED_PROVIDER_KEYS entries must be/);
    expect(settings.managedProviderKeys).toEqual({
      starter: { openrouter: "sk-or-managed-starter" },
      professional: { openrouter: "sk-or-pro" },
    });
    const managed = reconcileHandler({
      db,
      queue: { enqueue: async () => undefined },
      operations,
      stripe: local.stripe,
      settings: { automation, reconcile: settings },
      log: silentLogger,
    });
    const { customer } = await checkout("managed@example.com");
    await run(customer);
    await managed(stripeJob(customer, "test"));
    expect(operations.calls.at(-1)?.providerKeys).toEqual({ OPENROUTER_API_KEY: "sk-or-managed-starter" });
  });

  it("runs the bridges the customer enabled, as many as the tier allows", async () => {
    const { operations, run } = harness();
    const { customer, subscription } = await checkout("bridges@example.com");
    await run(customer);
    const instance = await instanceOf(customer);
    expect(instance.spec?.bridges).toBeUndefined();

    await setBridges(db.pool, instance.id, ["slack", "telegram"]);
    expect((await run(customer, "customer.bridges")).action).toBe("up");
    // Starter allows one: the first in catalog order.
    expect(operations.calls.at(-1)?.spec?.bridges?.map((b) => b.kind)).toEqual(["telegram"]);

    const sub = await local.stripe.subscriptions.retrieve(subscription);
    await local.stripe.subscriptions.update(subscription, {
      items: [{ id: sub.items.data[0]?.id ?? "", price: "price_mindroom_professional" }],
    });
    expect((await run(customer)).action).toBe("up");
    expect(operations.calls.at(-1)?.spec?.bridges).toEqual([
      { kind: "telegram", image: reconcileSettings.bridgeImages.telegram },
      { kind: "slack", image: reconcileSettings.bridgeImages.slack },
    ]);

    await setBridges(db.pool, instance.id, []);
    expect((await run(customer, "customer.bridges")).action).toBe("up");
    expect(operations.calls.at(-1)?.spec?.bridges).toBeUndefined();
  });
});
