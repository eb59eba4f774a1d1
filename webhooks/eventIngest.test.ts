/**
 * Recording events in group-committed batches on real Postgres with the real pg-boss queue: what
 * shares a transaction, duplicates and a bad event inside a batch, and renewal day (a renewal of a
 * tenant settled on its applied spec queues nothing).
 */
import pg from "pg";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { upsertCustomerByStripeId } from "../database/customers.ts";
import { createInstance } from "../database/instances.ts";
import { upsertSubscription } from "../database/subscriptions.ts";
import { buildEvent } from "../stripe-local/events.ts";
import { type TestDatabase, testDatabase } from "../testing/database.ts";
import { type EventRecorder, eventRecorder, type VerifiedDelivery } from "./eventIngest.ts";
import { openReconcileQueue, type ReconcileQueue } from "./queue.ts";
import type { IngestedEvent } from "./stripeWebhook.ts";

let db: TestDatabase;
let queue: ReconcileQueue;
let record: EventRecorder;

beforeAll(async () => {
  db = await testDatabase();
  queue = await openReconcileQueue({ url: db.url });
  record = eventRecorder(db.pool, queue);
});

afterAll(async () => {
  await queue?.stop({ timeoutMs: 2000 });
  await db?.close();
});

beforeEach(async () => {
  await db.pool.query("truncate public.stripe_events");
  await db.pool.query("delete from pgboss.job where name = 'reconcile'");
});

function delivery(event: ReturnType<typeof buildEvent>): VerifiedDelivery {
  return { event: event as IngestedEvent, raw: Buffer.from(JSON.stringify(event)) };
}

function subscriptionUpdated(customer: string, extra: Record<string, unknown> = {}) {
  return delivery(
    buildEvent({
      type: "customer.subscription.updated",
      object: { id: `sub_${customer}`, object: "subscription", customer, status: "active", ...extra },
    }),
  );
}

async function rows() {
  const { rows } = await db.pool.query<{ id: string; tx: string; processed: boolean }>(
    "select id, xmin::text as tx, processed_at is not null as processed from public.stripe_events order by id",
  );
  return rows;
}

async function jobKeys() {
  const { rows } = await db.pool.query<{ key: string }>(
    "select singleton_key as key from pgboss.job where name = 'reconcile' and state = 'created' order by 1",
  );
  return rows.map((r) => r.key);
}

describe("batches", () => {
  it("events submitted while a batch is written share the next transaction; each is answered after its commit", async () => {
    const lone = subscriptionUpdated("cus_b1");
    const together = ["cus_b2", "cus_b3", "cus_b4"].map((c) => subscriptionUpdated(c));
    const answers = [lone, ...together].map((d) => record(d));
    expect(await Promise.all(answers)).toEqual(["enqueued", "enqueued", "enqueued", "enqueued"]);
    const txOf = new Map((await rows()).map((r) => [r.id, r.tx]));
    const shared = new Set(together.map((d) => txOf.get(d.event.id)));
    expect(shared.size).toBe(1);
    expect(shared.has(txOf.get(lone.event.id))).toBe(false);
    expect(await jobKeys()).toEqual(["cus_b1", "cus_b2", "cus_b3", "cus_b4"]);
  });

  it("a delivery repeated within one batch is recorded once and answered duplicate", async () => {
    const lone = subscriptionUpdated("cus_d0");
    const event = subscriptionUpdated("cus_d1");
    expect(await Promise.all([record(lone), record(event), record(event)])).toEqual([
      "enqueued",
      "enqueued",
      "duplicate",
    ]);
    expect((await rows()).map((r) => r.id).sort()).toEqual([lone.event.id, event.event.id].sort());
    expect(await record(event)).toBe("duplicate");
    expect(await jobKeys()).toEqual(["cus_d0", "cus_d1"]);
  });

  it("an event Postgres cannot store fails alone: the others in its batch are recorded and queued", async () => {
    const lone = subscriptionUpdated("cus_m0");
    const good = [subscriptionUpdated("cus_m1"), subscriptionUpdated("cus_m3")];
    // JSON that parses, but whose \u0000 no jsonb can hold.
    const bad = subscriptionUpdated("cus_m2", { metadata: { note: "nul \u0000 inside" } });
    const results = await Promise.allSettled(
      [lone, good[0], bad, good[1]].map((d) => record(d as VerifiedDelivery)),
    );
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "fulfilled", "rejected", "fulfilled"]);
    expect((results[2] as PromiseRejectedResult).reason).toMatchObject({
      code: expect.stringMatching(/^22/),
    });
    expect((await rows()).map((r) => r.id).sort()).toEqual([lone, ...good].map((d) => d.event.id).sort());
    expect(await jobKeys()).toEqual(["cus_m0", "cus_m1", "cus_m3"]);
  });
});

describe("two services recording at once", () => {
  it("every event is recorded once and each customer has exactly one waiting reconcile, a deferred one pulled forward", async () => {
    const otherPool = new pg.Pool({ connectionString: db.url, max: 4 });
    try {
      const other = eventRecorder(otherPool, queue);
      await queue.enqueue({
        customerKey: "cus_two3",
        trigger: "stripe",
        reason: "deletion due",
        startAfter: new Date(Date.now() + 86_400_000),
      });
      const customers = Array.from({ length: 8 }, (_, i) => `cus_two${i}`);
      const deliveries = Array.from({ length: 80 }, (_, i) =>
        subscriptionUpdated(customers[i % 8] as string),
      );
      // Both services take every event (Stripe's retries reach either): one records it, the other sees a
      // duplicate. Two transactions may deadlock on the job rows; Postgres then fails one (a 503, which
      // Stripe retries), never both.
      const answers = await Promise.allSettled(deliveries.flatMap((d) => [record(d), other(d)]));
      for (const failed of answers.filter((a) => a.status === "rejected"))
        expect(failed.reason).toMatchObject({ code: "40P01" });
      for (let i = 0; i < deliveries.length; i++) {
        const pair = answers
          .slice(2 * i, 2 * i + 2)
          .flatMap((a) => (a.status === "fulfilled" ? [a.value] : []));
        expect(pair.filter((a) => a === "enqueued")).toHaveLength(1);
      }
      expect((await rows()).map((r) => r.id).sort()).toEqual(deliveries.map((d) => d.event.id).sort());
      expect(await jobKeys()).toEqual(customers);
      const { rows: deferred } = await db.pool.query<{ due: boolean }>(
        "select start_after <= now() as due from pgboss.job where name = 'reconcile' and singleton_key = 'cus_two3'",
      );
      expect(deferred).toEqual([{ due: true }]);
    } finally {
      await otherPool.end();
    }
  });
});

describe("renewal day", () => {
  const OLD_END = new Date("2026-12-01T00:00:00Z");
  const NEW_END = new Date("2027-01-01T00:00:00Z");
  const seconds = (d: Date) => d.getTime() / 1000;

  /** A customer with a tenant; `settled`: running on the spec it last applied. */
  async function tenant(stripeCustomerId: string, settled: boolean) {
    const customer = await upsertCustomerByStripeId(db.pool, { stripeCustomerId });
    const instance = await createInstance(db.pool, {
      customerId: customer.id,
      slug: stripeCustomerId.replaceAll("_", "-"),
      tier: "starter",
      desiredState: "running",
      specHash: "spec-2",
    });
    await db.pool.query(
      "update public.instances set actual_state = 'running', applied_spec_hash = $2 where id = $1",
      [instance.id, settled ? "spec-2" : "spec-1"],
    );
    await upsertSubscription(db.pool, {
      id: `sub_${stripeCustomerId}`,
      customerId: customer.id,
      stripeCustomerId,
      status: "active",
      priceId: "price_mindroom_starter",
      tier: "starter",
      cancelAtPeriodEnd: false,
      currentPeriodEnd: OLD_END,
      canceledAt: null,
      endedAt: null,
      trialEnd: null,
      stripeCreated: null,
      lastSyncedAt: new Date(),
    });
  }

  function renewal(customer: string, periodEnd = NEW_END) {
    const item = (end: Date) => ({
      id: `si_${customer}`,
      price: { id: "price_mindroom_starter" },
      quantity: 1,
      current_period_start: seconds(end) - 31 * 86_400,
      current_period_end: seconds(end),
    });
    return [
      delivery(
        buildEvent({
          type: "invoice.paid",
          object: { id: `in_${customer}`, object: "invoice", customer, billing_reason: "subscription_cycle" },
        }),
      ),
      delivery(
        buildEvent({
          type: "customer.subscription.updated",
          object: {
            id: `sub_${customer}`,
            object: "subscription",
            customer,
            status: "active",
            items: { object: "list", data: [item(periodEnd)] },
          },
          previousAttributes: {
            items: { object: "list", data: [item(new Date(periodEnd.getTime() - 31 * 86_400_000))] },
            latest_invoice: "in_previous",
          },
        }),
      ),
    ];
  }

  async function periodEnd(customer: string) {
    const { rows } = await db.pool.query<{ end: Date }>(
      "select current_period_end as end from public.subscriptions where id = $1",
      [`sub_${customer}`],
    );
    return rows[0]?.end;
  }

  it("a renewal of a settled tenant queues no reconcile, is recorded as handled and moves the period end forward", async () => {
    await tenant("cus_r1", true);
    const events = renewal("cus_r1");
    expect(await Promise.all(events.map((d) => record(d)))).toEqual(["unchanged", "unchanged"]);
    expect(await jobKeys()).toEqual([]);
    expect((await rows()).map((r) => r.processed)).toEqual([true, true]);
    expect(await periodEnd("cus_r1")).toEqual(NEW_END);
    // A late delivery of an older renewal does not move it back.
    const [, older] = renewal("cus_r1", OLD_END);
    expect(await record(older as VerifiedDelivery)).toBe("unchanged");
    expect(await periodEnd("cus_r1")).toEqual(NEW_END);
  });

  it("a renewal of a tenant whose desired spec differs from the applied one queues its reconcile", async () => {
    await tenant("cus_r2", false);
    expect(await Promise.all(renewal("cus_r2").map((d) => record(d)))).toEqual(["enqueued", "enqueued"]);
    expect(await jobKeys()).toEqual(["cus_r2"]);
    expect((await rows()).map((r) => r.processed)).toEqual([false, false]);
  });

  it("a renewal of a customer without a tenant, and a real change of a settled one, queue a reconcile", async () => {
    await tenant("cus_r3", true);
    const [invoice] = renewal("cus_r4");
    const change = subscriptionUpdated("cus_r3", { cancel_at_period_end: true });
    expect(await Promise.all([record(invoice as VerifiedDelivery), record(change)])).toEqual([
      "enqueued",
      "enqueued",
    ]);
    expect(await jobKeys()).toEqual(["cus_r3", "cus_r4"]);
  });

  it("a settled tenant with a warning (payment past due) is reconciled on the invoice that pays it", async () => {
    await tenant("cus_r5", true);
    await db.pool.query(
      "update public.instances set warning = 'payment past due' where customer_id = (select id from public.customers where stripe_customer_id = 'cus_r5')",
    );
    const [invoice] = renewal("cus_r5");
    expect(await record(invoice as VerifiedDelivery)).toBe("enqueued");
    expect(await jobKeys()).toEqual(["cus_r5"]);
  });
});
