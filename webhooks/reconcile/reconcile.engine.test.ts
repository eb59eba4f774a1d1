/**
 * End to end on real things: the webhook service (Koa, its queue and the
 * reconcile worker) runs as a child process against real embedded Postgres;
 * the local Stripe API changes subscriptions and delivers Stripe's signed
 * events to it; the worker runs the real Pulumi engine against the Dokku test
 * host, which the test reads only through Dokku's own commands.
 *
 * One customer's whole life in one test (each `up` costs seconds of engine
 * time): checkout → running, upgrade → new limits only, payment failure →
 * warning, unpaid → suspended with data kept, paid → resumed, duplicate /
 * stale / reordered / late events → nothing, the service SIGKILLed during an
 * up → retried and converged, cancellation → deleted after the grace and not
 * before. The operations table must show exactly one operation per real change.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type Stripe from "stripe";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tenantNames } from "../../components/tenantNames.ts";
import { parseTenantSpec } from "../../components/tenantSpec.ts";
import { tier } from "../../components/tiers.ts";
import { auditForInstance } from "../../database/auditLog.ts";
import type { Instance } from "../../database/instances.ts";
import { operationsForInstance } from "../../database/operations.ts";
import type { TestDatabase } from "../../testing/database.ts";
import { dokkuTarget } from "../../testing/dokkuTarget.ts";
import { instanceOfStripeCustomer } from "../../testing/instanceRows.ts";
import type { LocalStripe } from "../../testing/stripeLocal.ts";
import { startStripePipeline } from "../../testing/stripePipeline.ts";
import { expectGone, expectTenant, observeTenant } from "../../testing/tenantObserver.ts";
import { waitFor } from "../../testing/waitFor.ts";
import type { WebhookServiceChild } from "../../testing/webhookService.ts";

const target = dokkuTarget();
const GRACE_SECONDS = 30;
const dataDir = mkdtempSync(join(tmpdir(), "mindroom-reconcile-e2e-"));
let db: TestDatabase;
let local: LocalStripe;
let service: WebhookServiceChild;
let webhookSecret: string;

beforeAll(async () => {
  ({
    db,
    stripe: local,
    service,
    webhookSecret,
  } = await startStripePipeline({ dataDir, target, deletionGrace: `${GRACE_SECONDS}s` }));
});

afterAll(async () => {
  await service?.stop();
  await local?.stop();
  await db?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

/**
 * One tenant's engine operations on a loaded 2-core machine, with room: a destroy took over 180 s
 * while other suites ran beside this one.
 */
const ENGINE_WAIT = { timeoutMs: 420_000, intervalMs: 250 };

/** Reconcile jobs of the customer that are due or running. */
async function busyJobs(customerKey: string): Promise<number> {
  const { rows } = await db.pool.query(
    `select count(*)::int as n from pgboss.job where name = 'reconcile' and singleton_key = $1
      and (state = 'active' or (state in ('created', 'retry') and start_after <= now()))`,
    [customerKey],
  );
  return (rows[0] as { n: number }).n;
}

/** Every event delivered, and every reconcile they asked for finished. */
async function settled(customerKey: string): Promise<Instance> {
  await local.idle();
  await waitFor(
    "the customer's reconciles to finish",
    async () =>
      (await busyJobs(customerKey)) === 0 && (await busyJobs(customerKey)) === 0 ? true : undefined,
    ENGINE_WAIT,
  );
  return instanceOf(customerKey);
}

async function instanceOf(customerKey: string): Promise<Instance> {
  const instance = await instanceOfStripeCustomer(db.pool, customerKey);
  if (!instance) throw new Error(`no instance for ${customerKey}`);
  return instance;
}

/** Waits until the instance reached `state` with its desired spec applied. */
function converged(
  customerKey: string,
  state: Instance["actualState"],
  extra: (i: Instance) => boolean = () => true,
) {
  return waitFor(
    `the instance to be ${state}`,
    async () => {
      const instance = await instanceOfStripeCustomer(db.pool, customerKey);
      return instance &&
        instance.actualState === state &&
        instance.appliedSpecHash === instance.specHash &&
        extra(instance)
        ? instance
        : undefined;
    },
    { ...ENGINE_WAIT, explain: () => diagnosis(customerKey) },
  );
}

/** What the database says about the customer's instance, for a failure message. */
async function diagnosis(customerKey: string): Promise<string> {
  const instance = await instanceOfStripeCustomer(db.pool, customerKey);
  if (!instance) return "no instance";
  const ops = await operationsForInstance(db.pool, instance.id, 3);
  return JSON.stringify({
    tier: instance.tier,
    desired: instance.desiredState,
    actual: instance.actualState,
    lastError: instance.lastError,
    operations: ops.map((o) => ({ kind: o.kind, status: o.status, error: o.error, progress: o.progress })),
  });
}

const operationsOf = async (instance: Instance) =>
  (await operationsForInstance(db.pool, instance.id)).reverse().map((o) => `${o.kind}:${o.status}`);

/** Posts an event to the service, signed like Stripe signs it (optionally with an old timestamp). */
async function deliver(event: Stripe.Event, timestamp = Math.floor(Date.now() / 1000)) {
  const payload = JSON.stringify(event);
  const signature = local.stripe.webhooks.generateTestHeaderString({
    payload,
    secret: webhookSecret,
    timestamp,
  });
  const response = await fetch(`${service.url}/stripe/webhook`, {
    method: "POST",
    headers: { "content-type": "application/json", "stripe-signature": signature },
    body: payload,
  });
  return {
    status: response.status,
    body: (await response.json()) as { received: boolean; duplicate?: boolean },
  };
}

async function eventsOf(customerKey: string): Promise<Stripe.Event[]> {
  const all: Stripe.Event[] = [];
  for await (const e of local.stripe.events.list({ limit: 100 })) {
    if ((e.data.object as { customer?: unknown }).customer === customerKey) all.push(e);
  }
  return all.reverse(); // oldest first
}

async function observe(instance: Instance) {
  return observeTenant(target, tenantNames(parseTenantSpec(instance.spec).slug));
}

describe("a customer's life, from Stripe to the Dokku host", { timeout: 600_000 }, () => {
  // Eight engine operations plus a kill and a restart: generous on a shared 2-core machine.
  it("provisions, resizes, suspends, resumes, survives a killed service and deletes after the grace", {
    timeout: 1_500_000,
  }, async () => {
    // Checkout: the hosted page completes, Stripe sends its burst of signed events.
    const session = await local.stripe.checkout.sessions.create({
      mode: "subscription",
      line_items: [{ price: "price_mindroom_starter", quantity: 1 }],
      customer_email: "ada.lovelace@example.com",
      success_url: "https://app.mindroom.test/welcome",
    });
    const { session: done } = await local.controls.completeCheckout(session.id, {
      email: "ada.lovelace@example.com",
      name: "Ada Lovelace",
    });
    const customer = String(done.customer);
    const subscription = String(done.subscription);
    const types = (await eventsOf(customer)).map((e) => e.type);
    expect(types).toEqual(
      expect.arrayContaining(["customer.subscription.created", "checkout.session.completed"]),
    );

    let instance = await converged(customer, "running");
    instance = await settled(customer);
    expect(instance.slug).toMatch(/^ada-lovelace-[a-z0-9]{6}$/);
    expect(instance).toMatchObject({
      tier: "starter",
      desiredState: "running",
      host: target.shellUrl,
      warning: null,
    });
    expect(instance.outputs).toMatchObject({
      tier: "starter",
      status: "running",
      host: `${target.host}:${target.port}`,
    });
    expectTenant(await observe(instance), parseTenantSpec(instance.spec));
    expect(await operationsOf(instance)).toEqual(["up:succeeded"]);

    // Upgrade: only limits (and the tier's settings) change, in place.
    const sub = await local.stripe.subscriptions.retrieve(subscription);
    await local.stripe.subscriptions.update(subscription, {
      items: [{ id: sub.items.data[0]?.id ?? "", price: "price_mindroom_professional" }],
    });
    instance = await converged(customer, "running", (i) => i.tier === "professional");
    instance = await settled(customer);
    const upgraded = await observe(instance);
    expectTenant(upgraded, parseTenantSpec(instance.spec));
    const runtime = upgraded.byApp[tenantNames(parseTenantSpec(instance.spec).slug).runtimeApp];
    expect(runtime?.limits["_default_.limit.memory"]).toBe(String(tier("professional").runtime.memoryMb));
    const [, upgrade] = await operationsForInstance(db.pool, instance.id).then((ops) => ops.reverse());
    expect(Object.keys(upgrade?.changes ?? {}).filter((k) => !["update", "same"].includes(k))).toEqual([]);
    expect(upgrade?.changes?.update).toBeGreaterThan(0);
    expect(await operationsOf(instance)).toEqual(["up:succeeded", "up:succeeded"]);

    // A failed payment: past_due keeps running, with a warning, and changes nothing on the host.
    await local.controls.paymentFailed(subscription);
    instance = await waitFor(
      "the past-due warning",
      async () => {
        const i = await instanceOf(customer);
        return i.warning ? i : undefined;
      },
      ENGINE_WAIT,
    );
    instance = await settled(customer);
    expect(instance).toMatchObject({
      actualState: "running",
      warning: expect.stringMatching(/^payment past due/),
    });
    expect(await operationsOf(instance)).toHaveLength(2);

    // Retries exhausted → unpaid: suspended, every process at zero, data kept.
    await local.controls.retriesExhausted(subscription, "unpaid");
    instance = await converged(customer, "suspended");
    instance = await settled(customer);
    const suspended = await observe(instance);
    expectTenant(suspended, parseTenantSpec(instance.spec));
    expect(suspended.storage).toEqual(upgraded.storage);
    expect(suspended.byApp[runtimeName(instance)]?.config).toEqual(
      upgraded.byApp[runtimeName(instance)]?.config,
    );

    // Paying resumes it.
    await local.controls.paymentSucceeded(subscription);
    instance = await converged(customer, "running", (i) => i.warning === null);
    instance = await settled(customer);
    expectTenant(await observe(instance), parseTenantSpec(instance.spec));
    expect(await operationsOf(instance)).toEqual(Array(4).fill("up:succeeded"));

    // Duplicates, a stale event arriving last, reversed order, a redelivery hours later: nothing changes.
    const history = await eventsOf(customer);
    const pastDue = history.find(
      (e) =>
        e.type === "customer.subscription.updated" &&
        (e.data.object as Stripe.Subscription).status === "past_due",
    );
    if (!pastDue) throw new Error("no past_due event was sent");
    expect(await deliver(pastDue)).toEqual({ status: 200, body: { received: true, duplicate: true } });
    const twoDaysAgo = pastDue.created - 2 * 86_400;
    expect((await deliver({ ...pastDue, id: `${pastDue.id}stale`, created: twoDaysAgo })).status).toBe(200);
    for (const e of history.slice(0, 6).reverse())
      expect((await deliver({ ...e, id: `${e.id}rev` })).status).toBe(200);
    const twentyHoursAgo = Math.floor(Date.now() / 1000) - 20 * 3600;
    expect(await deliver(history[0] as Stripe.Event, twentyHoursAgo)).toEqual({
      status: 200,
      body: { received: true, duplicate: true },
    });
    instance = await settled(customer);
    expect(instance).toMatchObject({ actualState: "running", tier: "professional", warning: null });
    expect(await operationsOf(instance)).toHaveLength(4);

    // The service killed in the middle of an up (a downgrade): after a restart the job is retried and converges.
    const faults = target.faults;
    const names = tenantNames(parseTenantSpec(instance.spec).slug);
    const slow = new RegExp(`\\b(${names.runtimeApp}|${names.homeserverApp})\\b`);
    await faults?.setDelay(400, { match: slow });
    const current = await local.stripe.subscriptions.retrieve(subscription);
    await local.stripe.subscriptions.update(subscription, {
      items: [{ id: current.items.data[0]?.id ?? "", price: "price_mindroom_starter" }],
    });
    await waitFor(
      "the downgrade to be under way",
      async () => {
        const [latest] = await operationsForInstance(db.pool, instance.id, 1);
        return latest?.status === "running" && (latest.progress?.done ?? 0) >= 1 ? true : undefined;
      },
      ENGINE_WAIT,
    );
    await service.stop("SIGKILL");
    await faults?.setDelay(0, { match: slow });
    await service.start();
    instance = await converged(customer, "running", (i) => i.tier === "starter");
    instance = await settled(customer);
    expectTenant(await observe(instance), parseTenantSpec(instance.spec));
    expect(await operationsOf(instance)).toEqual([
      ...Array(4).fill("up:succeeded"),
      "up:failed",
      "up:succeeded",
    ]);
    const [, interrupted] = await operationsForInstance(db.pool, instance.id, 2);
    expect(interrupted?.error).toMatch(/^interrupted/);

    // Cancellation: suspended with data kept until the grace is over, then deleted.
    const canceled = await local.stripe.subscriptions.cancel(subscription);
    const due = new Date(((canceled.ended_at ?? 0) + GRACE_SECONDS) * 1000);
    instance = await converged(customer, "suspended");
    expect(instance.deletionDueAt).toEqual(due);
    // Not before: the tenant is still on the host, suspended with its data. (Looked at only with time to
    // spare: on a loaded machine the suspend itself may take most of the grace, and a look that overlaps
    // the deletion proves nothing; the operation records below prove the order either way. The look
    // itself is a dozen SSH round trips, which under load can outlast any margin: it counts only if it
    // ended before the deletion was due.)
    if (due.getTime() - Date.now() > 10_000) {
      const suspended = await observe(instance);
      if (Date.now() < due.getTime()) expectTenant(suspended, parseTenantSpec(instance.spec));
    }
    instance = await converged(customer, "deleted");
    expectGone(await observe(instance));
    const ops = (await operationsForInstance(db.pool, instance.id)).reverse();
    const destroy = ops.at(-1);
    expect(destroy?.kind).toBe("destroy");
    expect(destroy?.createdAt.getTime()).toBeGreaterThanOrEqual(due.getTime());
    expect(await operationsOf(instance)).toEqual([
      ...Array(4).fill("up:succeeded"),
      "up:failed",
      "up:succeeded",
      "up:succeeded",
      "destroy:succeeded",
    ]);
    const trail = (await auditForInstance(db.pool, instance.id)).map((a) => a.action).reverse();
    expect(trail.filter((a) => a.startsWith("deletion.") || a === "instance.delete")).toEqual([
      "deletion.scheduled",
      "instance.delete",
    ]);
  });
});

function runtimeName(instance: Instance): string {
  return tenantNames(parseTenantSpec(instance.spec).slug).runtimeApp;
}
