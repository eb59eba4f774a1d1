import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type TestDatabase, testDatabase } from "../testing/database.ts";
import { audit, auditForCustomer, auditForInstance } from "./auditLog.ts";
import {
  CustomerConflictError,
  findCustomerByStripeId,
  findCustomerByUserId,
  linkUser,
  setStripeCustomerId,
  upsertCustomerByStripeId,
  upsertCustomerForUser,
} from "./customers.ts";
import {
  createInstance,
  findInstanceByCustomer,
  findInstanceBySlug,
  InstanceConflictError,
  InstanceFilterError,
  InstanceNotFoundError,
  instancesDueForDeletion,
  listInstances,
  recordActual,
  requestRestart,
  setHold,
  updateDesired,
} from "./instances.ts";
import {
  failedOperationsSince,
  findOperation,
  finishOperation,
  OperationStateError,
  operationsForInstance,
  recordProgress,
  startOperation,
} from "./operations.ts";
import { findEvent, markProcessed, recordEvents, unprocessedEvents } from "./stripeEvents.ts";
import {
  findSubscription,
  type SubscriptionProjection,
  subscriptionsForCustomer,
  upsertSubscription,
} from "./subscriptions.ts";
import { recordUsage, usageForInstance } from "./usage.ts";

let db: TestDatabase;
beforeAll(async () => {
  db = await testDatabase();
});
afterAll(async () => {
  await db?.close();
});

async function authUser(email = `${randomUUID()}@example.com`): Promise<string> {
  const id = randomUUID();
  await db.pool.query("insert into auth.users (id, email) values ($1, $2)", [id, email]);
  return id;
}

let counter = 0;
function unique(prefix: string): string {
  counter += 1;
  return `${prefix}_${Date.now().toString(36)}${counter}`;
}

async function customerWithInstance(slug = unique("t").replaceAll("_", "-")) {
  const customer = await upsertCustomerByStripeId(db.pool, { stripeCustomerId: unique("cus") });
  const instance = await createInstance(db.pool, {
    customerId: customer.id,
    slug,
    tier: "starter",
    desiredState: "running",
  });
  return { customer, instance };
}

describe("customers", () => {
  it("upserts by Stripe id: one row, email refreshed, an existing user link kept", async () => {
    const user = await authUser();
    const stripeCustomerId = unique("cus");
    const first = await upsertCustomerByStripeId(db.pool, {
      stripeCustomerId,
      email: "old@example.com",
      userId: user,
    });
    const second = await upsertCustomerByStripeId(db.pool, {
      stripeCustomerId,
      email: "new@example.com",
      userId: await authUser(),
    });
    expect(second.id).toBe(first.id);
    expect(second.email).toBe("new@example.com");
    expect(second.userId).toBe(user);
    expect(await findCustomerByStripeId(db.pool, stripeCustomerId)).toEqual(second);
    expect((await findCustomerByUserId(db.pool, user))?.id).toBe(first.id);
    expect(await findCustomerByStripeId(db.pool, "cus_missing")).toBeNull();
  });

  it("links a person once: same pair is a no-op, another person or a second customer is refused", async () => {
    const user = await authUser();
    const customer = await upsertCustomerByStripeId(db.pool, { stripeCustomerId: unique("cus") });
    expect((await linkUser(db.pool, customer.id, user)).userId).toBe(user);
    expect((await linkUser(db.pool, customer.id, user)).userId).toBe(user);
    await expect(linkUser(db.pool, customer.id, await authUser())).rejects.toThrow(CustomerConflictError);
    const other = await upsertCustomerByStripeId(db.pool, { stripeCustomerId: unique("cus") });
    await expect(linkUser(db.pool, other.id, user)).rejects.toThrow(/already linked to another customer/);
  });

  it("creates a portal customer for a person and attaches its Stripe customer once", async () => {
    const user = await authUser();
    const customer = await upsertCustomerForUser(db.pool, { userId: user, email: "p@example.com" });
    expect(await upsertCustomerForUser(db.pool, { userId: user })).toMatchObject({
      id: customer.id,
      email: "p@example.com",
    });
    const stripeId = unique("cus");
    expect((await setStripeCustomerId(db.pool, customer.id, stripeId)).stripeCustomerId).toBe(stripeId);
    expect((await setStripeCustomerId(db.pool, customer.id, stripeId)).stripeCustomerId).toBe(stripeId);
    await expect(setStripeCustomerId(db.pool, customer.id, unique("cus"))).rejects.toThrow(
      CustomerConflictError,
    );
  });
});

describe("subscriptions", () => {
  it("ignores a write older than (or as old as) the stored one, and applies a newer one", async () => {
    const customer = await upsertCustomerByStripeId(db.pool, { stripeCustomerId: unique("cus") });
    const base: SubscriptionProjection = {
      id: unique("sub"),
      customerId: customer.id,
      stripeCustomerId: customer.stripeCustomerId as string,
      status: "active",
      priceId: "price_mindroom_starter",
      tier: "starter",
      cancelAtPeriodEnd: false,
      currentPeriodEnd: new Date("2026-12-29T00:00:00Z"),
      canceledAt: null,
      endedAt: null,
      trialEnd: null,
      stripeCreated: new Date("2026-11-29T00:00:00Z"),
      lastSyncedAt: new Date("2026-11-29T10:00:00Z"),
    };
    expect(await upsertSubscription(db.pool, base)).toEqual({ applied: true });
    const stale = { ...base, status: "past_due" as const, lastSyncedAt: new Date("2026-11-29T09:00:00Z") };
    expect(await upsertSubscription(db.pool, stale)).toEqual({ applied: false });
    expect(await upsertSubscription(db.pool, { ...stale, lastSyncedAt: base.lastSyncedAt })).toEqual({
      applied: false,
    });
    expect((await findSubscription(db.pool, base.id))?.status).toBe("active");

    const newer = {
      ...base,
      status: "canceled" as const,
      endedAt: new Date("2026-11-29T11:00:00Z"),
      lastSyncedAt: new Date("2026-11-29T11:00:00Z"),
    };
    expect(await upsertSubscription(db.pool, newer)).toEqual({ applied: true });
    const stored = await findSubscription(db.pool, base.id);
    expect(stored).toMatchObject({
      status: "canceled",
      endedAt: newer.endedAt,
      lastSyncedAt: newer.lastSyncedAt,
    });
    expect((await subscriptionsForCustomer(db.pool, customer.id)).map((s) => s.id)).toEqual([base.id]);
  });

  it("refuses a status Stripe does not have", async () => {
    const customer = await upsertCustomerByStripeId(db.pool, { stripeCustomerId: unique("cus") });
    await expect(
      db.pool.query(
        `insert into public.subscriptions (id, customer_id, stripe_customer_id, status, last_synced_at)
         values ('sub_x', $1, 'cus_x', 'expired', now())`,
        [customer.id],
      ),
    ).rejects.toThrow(/subscriptions_status_check/);
  });
});

describe("instances", () => {
  it("creates one instance per customer with a unique slug, with errors that say what to do", async () => {
    const { customer, instance } = await customerWithInstance();
    expect(instance).toMatchObject({ actualState: "pending", desiredState: "running", spec: null });
    expect(await findInstanceByCustomer(db.pool, customer.id)).toEqual(instance);
    expect(await findInstanceBySlug(db.pool, instance.slug)).toEqual(instance);
    await expect(
      createInstance(db.pool, {
        customerId: customer.id,
        slug: unique("other"),
        tier: "free",
        desiredState: "running",
      }),
    ).rejects.toThrow(/already has an instance; update it/);
    const other = await upsertCustomerByStripeId(db.pool, { stripeCustomerId: unique("cus") });
    await expect(
      createInstance(db.pool, {
        customerId: other.id,
        slug: instance.slug,
        tier: "free",
        desiredState: "running",
      }),
    ).rejects.toThrow(InstanceConflictError);
  });

  it("records desired and actual state separately; undefined keeps a field, null clears it", async () => {
    const { instance } = await customerWithInstance();
    const spec = { slug: instance.slug, tier: "professional", limits: [1, 2] };
    const desired = await updateDesired(db.pool, instance.id, {
      tier: "professional",
      spec,
      specHash: "hash-2",
      warning: "payment past due",
      host: "ssh://dokku@host-a:22",
    });
    expect(desired).toMatchObject({
      tier: "professional",
      spec,
      specHash: "hash-2",
      warning: "payment past due",
    });
    const actual = await recordActual(db.pool, instance.id, {
      actualState: "running",
      outputs: { url: "https://x.mindroom.test" },
      appliedSpecHash: "hash-2",
    });
    expect(actual).toMatchObject({
      actualState: "running",
      appliedSpecHash: "hash-2",
      warning: "payment past due",
    });
    const cleared = await updateDesired(db.pool, instance.id, { warning: null });
    expect(cleared).toMatchObject({ warning: null, host: "ssh://dokku@host-a:22", tier: "professional" });
    expect(cleared.updatedAt.getTime()).toBeGreaterThanOrEqual(instance.updatedAt.getTime());
  });

  it("holds and releases an instance, keeping the first hold's time, and counts restart requests", async () => {
    const { instance } = await customerWithInstance();
    expect(instance).toMatchObject({ hold: null, restartGeneration: 0 });
    const held = await setHold(db.pool, instance.id, "abuse report #12");
    expect(held.hold?.reason).toBe("abuse report #12");
    const since = held.hold?.since;
    const reworded = await setHold(db.pool, instance.id, "abuse report #12, confirmed");
    expect(reworded.hold).toEqual({ since, reason: "abuse report #12, confirmed" });
    expect((await setHold(db.pool, instance.id, null)).hold).toBeNull();

    expect((await requestRestart(db.pool, instance.id)).restartGeneration).toBe(1);
    expect((await requestRestart(db.pool, instance.id)).restartGeneration).toBe(2);
    await expect(requestRestart(db.pool, randomUUID())).rejects.toThrow(InstanceNotFoundError);
    await expect(setHold(db.pool, randomUUID(), "x")).rejects.toThrow(InstanceNotFoundError);
    // A hold always says why.
    await expect(
      db.pool.query("update public.instances set held_at = now() where id = $1", [instance.id]),
    ).rejects.toThrow(/instances_hold_has_reason/);
  });

  it("pages through more than 1,000 instances with filters, each row exactly once", async () => {
    await db.pool.query(`
      with c as (
        insert into public.customers (stripe_customer_id)
        select 'cus_bulk_' || n from generate_series(1, 1050) n
        returning id, stripe_customer_id
      )
      insert into public.instances (customer_id, slug, tier, desired_state, actual_state, spec_hash, applied_spec_hash)
      select id, 'bulk-' || lpad(substr(stripe_customer_id, 10), 5, '0'),
             case when substr(stripe_customer_id, 10)::int % 3 = 0 then 'professional' else 'starter' end,
             'running',
             case when substr(stripe_customer_id, 10)::int % 2 = 0 then 'running' else 'failed' end,
             'h2', case when substr(stripe_customer_id, 10)::int % 5 = 0 then 'h1' else 'h2' end
      from c`);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page = await listInstances(db.pool, { slugPrefix: "bulk-", limit: 400, cursor });
      seen.push(...page.instances.map((i) => i.slug));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toHaveLength(1050);
    expect(new Set(seen).size).toBe(1050);
    expect([...seen].sort()).toEqual(seen);

    const failedPro = await listInstances(db.pool, {
      slugPrefix: "bulk-",
      actualState: "failed",
      tier: "professional",
      limit: 1000,
    });
    // Odd and divisible by 3: 3, 9, 15, … ≤ 1050.
    expect(failedPro.instances).toHaveLength(175);
    expect(failedPro.nextCursor).toBeNull();
    const pending = await listInstances(db.pool, { slugPrefix: "bulk-", outOfDate: true, limit: 1000 });
    expect(pending.instances).toHaveLength(210);
    const both = await listInstances(db.pool, {
      slugPrefix: "bulk-",
      actualState: ["failed", "running"],
      limit: 1,
    });
    expect(both.nextCursor).toBe("bulk-00001");
    await expect(listInstances(db.pool, { limit: 1001 })).rejects.toThrow(InstanceFilterError);
  });

  it("finds deletions that are due and not done, oldest first", async () => {
    const now = new Date("2030-01-10T00:00:00Z");
    const due = await customerWithInstance();
    const later = await customerWithInstance();
    const done = await customerWithInstance();
    const older = await customerWithInstance();
    await updateDesired(db.pool, due.instance.id, {
      desiredState: "suspended",
      deletionDueAt: new Date("2030-01-09T00:00:00Z"),
    });
    await updateDesired(db.pool, later.instance.id, {
      desiredState: "suspended",
      deletionDueAt: new Date("2030-01-11T00:00:00Z"),
    });
    await updateDesired(db.pool, done.instance.id, {
      desiredState: "deleted",
      deletionDueAt: new Date("2030-01-01T00:00:00Z"),
    });
    await recordActual(db.pool, done.instance.id, { actualState: "deleted" });
    await updateDesired(db.pool, older.instance.id, {
      desiredState: "deleted",
      deletionDueAt: new Date("2030-01-02T00:00:00Z"),
    });
    const ids = (await instancesDueForDeletion(db.pool, now)).map((i) => i.id);
    expect(ids.filter((id) => [due, later, done, older].some((x) => x.instance.id === id))).toEqual([
      older.instance.id,
      due.instance.id,
    ]);
  });
});

describe("operations", () => {
  it("starts an operation as the instance's last one, records progress and finishes it once", async () => {
    const { instance } = await customerWithInstance();
    const op = await startOperation(db.pool, {
      instanceId: instance.id,
      kind: "up",
      trigger: "stripe",
      reason: "customer.subscription.created",
      specHash: "h1",
    });
    expect(op).toMatchObject({ status: "running", kind: "up", trigger: "stripe", progress: null });
    expect(op.startedAt).toBeInstanceOf(Date);
    expect((await findInstanceByCustomer(db.pool, instance.customerId))?.lastOperationId).toBe(op.id);

    await recordProgress(db.pool, op.id, { step: "deploy", done: 2, total: 5, message: "creating app" });
    expect((await findOperation(db.pool, op.id))?.progress).toEqual({
      step: "deploy",
      done: 2,
      total: 5,
      message: "creating app",
    });

    const finished = await finishOperation(db.pool, op.id, {
      status: "succeeded",
      changes: { create: 5 },
      outputs: { url: "u" },
    });
    expect(finished).toMatchObject({
      status: "succeeded",
      changes: { create: 5 },
      outputs: { url: "u" },
      error: null,
    });
    expect(finished.durationMs).toBeGreaterThanOrEqual(0);
    expect(finished.finishedAt?.getTime()).toBeGreaterThanOrEqual(op.startedAt?.getTime() ?? 0);

    await expect(finishOperation(db.pool, op.id, { status: "failed", error: "late" })).rejects.toThrow(
      OperationStateError,
    );
    // A late progress event does not reopen it.
    await recordProgress(db.pool, op.id, { step: "late" });
    expect(await findOperation(db.pool, op.id)).toMatchObject({
      status: "succeeded",
      progress: { step: "deploy" },
    });
  });

  it("lists an instance's operations newest first and failures since a time", async () => {
    const { instance } = await customerWithInstance();
    const since = new Date();
    const first = await startOperation(db.pool, { instanceId: instance.id, kind: "up", trigger: "stripe" });
    await finishOperation(db.pool, first.id, { status: "failed", error: "dokku unreachable" });
    const second = await startOperation(db.pool, {
      instanceId: instance.id,
      kind: "up",
      trigger: "retry",
      status: "queued",
    });
    expect(second.startedAt).toBeNull();
    expect((await operationsForInstance(db.pool, instance.id)).map((o) => o.id)).toEqual([
      second.id,
      first.id,
    ]);
    const failed = await failedOperationsSince(db.pool, since);
    expect(failed.map((o) => o.id)).toContain(first.id);
    expect(failed.every((o) => o.status === "failed")).toBe(true);
    expect(await failedOperationsSince(db.pool, new Date(Date.now() + 60_000))).toEqual([]);
  });
});

describe("stripe events", () => {
  it("records an event once: a redelivery inserts nothing and keeps the first payload", async () => {
    const id = unique("evt");
    const raw = `{"id":"${id}","object":"event",  "type":"customer.subscription.updated"}`;
    expect(
      await recordEvents(db.pool, [
        {
          id,
          type: "customer.subscription.updated",
          payload: raw,
          customerId: "cus_1",
          stripeCreated: new Date("2026-11-29T10:00:00Z"),
          livemode: false,
        },
      ]),
    ).toEqual(new Set([id]));
    expect(
      await recordEvents(db.pool, [
        {
          id,
          type: "customer.subscription.updated",
          payload: { id, changed: true },
        },
      ]),
    ).toEqual(new Set());
    const stored = await findEvent(db.pool, id);
    expect(stored).toMatchObject({ id, customerId: "cus_1", processedAt: null, livemode: false });
    expect(stored?.payload).toEqual({ id, object: "event", type: "customer.subscription.updated" });
    expect(
      (await db.pool.query("select count(*)::int as n from public.stripe_events where id = $1", [id])).rows,
    ).toEqual([{ n: 1 }]);

    expect((await unprocessedEvents(db.pool)).map((e) => e.id)).toContain(id);
    await markProcessed(db.pool, id);
    expect((await findEvent(db.pool, id))?.processedAt).toBeInstanceOf(Date);
    expect((await unprocessedEvents(db.pool)).map((e) => e.id)).not.toContain(id);
  });
});

describe("audit log", () => {
  it("appends entries and reads them back per instance and customer, newest first", async () => {
    const { customer, instance } = await customerWithInstance();
    await audit(db.pool, {
      actor: "stripe",
      action: "subscription.created",
      customerId: customer.id,
      instanceId: instance.id,
    });
    await audit(db.pool, {
      actor: "operator:ops@example.com",
      action: "instance.suspend",
      customerId: customer.id,
      instanceId: instance.id,
      reason: "abuse report",
      details: { ticket: 42 },
    });
    const entries = await auditForInstance(db.pool, instance.id);
    expect(entries.map((e) => e.action)).toEqual(["instance.suspend", "subscription.created"]);
    expect(entries[0]).toMatchObject({
      actor: "operator:ops@example.com",
      reason: "abuse report",
      details: { ticket: 42 },
    });
    expect(await auditForCustomer(db.pool, customer.id)).toEqual(entries);
    await expect(audit(db.pool, { actor: "somebody", action: "x" })).rejects.toThrow(/actor must be/);
  });
});

describe("usage", () => {
  it("keeps one row per day, merging later reports, and reads a day range in order", async () => {
    const { instance } = await customerWithInstance();
    await recordUsage(db.pool, { instanceId: instance.id, day: "2026-11-28", agents: 1, messages: 10 });
    await recordUsage(db.pool, { instanceId: instance.id, day: "2026-11-29", agents: 2, messages: 5 });
    const merged = await recordUsage(db.pool, {
      instanceId: instance.id,
      day: "2026-11-29",
      messages: 50,
      storageBytes: 5 * 2 ** 30,
    });
    expect(merged).toEqual({
      instanceId: instance.id,
      day: "2026-11-29",
      agents: 2,
      messages: 50,
      storageBytes: 5 * 2 ** 30,
    });
    expect((await usageForInstance(db.pool, instance.id)).map((u) => u.day)).toEqual([
      "2026-11-28",
      "2026-11-29",
    ]);
    expect(await usageForInstance(db.pool, instance.id, { from: "2026-11-29" })).toEqual([merged]);
    await expect(recordUsage(db.pool, { instanceId: instance.id, day: "29.11.2026" })).rejects.toThrow();
  });
});
