/**
 * The reconcile queue on real Postgres (pg-boss in a fresh database per file): coalescing per
 * customer, transactional enqueue, deferred jobs, retries into a dead letter and an operator's
 * retry. Waiting is by polling the queue's state, never by asserting on time.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type TestDatabase, testDatabase } from "../testing/database.ts";
import { openReconcileQueue, type ReconcileJob, type ReconcileQueue } from "./queue.ts";

let db: TestDatabase;
let queue: ReconcileQueue;
/** One worker for the file; each test handles its own customers (others complete at once). */
const handlers = new Map<string, (job: ReconcileJob) => Promise<void>>();

async function until<T>(read: () => Promise<T>, done: (value: T) => boolean, what: string): Promise<T> {
  for (let i = 0; i < 600; i++) {
    const value = await read();
    if (done(value)) return value;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`gave up waiting for ${what}: ${JSON.stringify(await read())}`);
}

async function jobsFor(customerKey: string) {
  const { rows } = await db.pool.query<{ state: string; data: Record<string, unknown>; deferred: boolean }>(
    `select state::text as state, data, start_after > now() + interval '1 minute' as deferred
       from pgboss.job where name = 'reconcile' and singleton_key = $1 order by created_on`,
    [customerKey],
  );
  return rows;
}

beforeAll(async () => {
  db = await testDatabase();
  queue = await openReconcileQueue(
    { url: db.url },
    { retryLimit: 2, retryDelaySeconds: 1, retryDelayMaxSeconds: 1, pollingIntervalSeconds: 0.5 },
  );
});

afterAll(async () => {
  await queue?.stop({ timeoutMs: 2000 });
  await db?.close();
});

describe("enqueue", () => {
  it("coalesces a burst for one customer into one queued job, and keeps customers apart", async () => {
    for (let i = 0; i < 10; i++)
      await queue.enqueue({
        customerKey: "cus_burst",
        trigger: "stripe",
        reason: "burst",
        eventId: `evt_${i}`,
      });
    await queue.enqueue({ customerKey: "cus_other", trigger: "sweep", reason: "sweep" });
    expect(await jobsFor("cus_burst")).toEqual([
      {
        state: "created",
        deferred: false,
        data: { customerKey: "cus_burst", trigger: "stripe", reason: "burst", eventId: "evt_0" },
      },
    ]);
    expect((await jobsFor("cus_other")).map((j) => j.state)).toEqual(["created"]);
  });

  it("queues many on one transaction: one job per customer, a waiting job covers its customer", async () => {
    const later = new Date(Date.now() + 7 * 86_400_000);
    await queue.enqueue({
      customerKey: "cus_many_deferred",
      trigger: "stripe",
      reason: "deletion",
      startAfter: later,
    });
    const client = await db.pool.connect();
    try {
      await client.query("begin");
      await queue.enqueueAll(
        [
          { customerKey: "cus_many_1", trigger: "stripe", reason: "first", eventId: "evt_m1" },
          { customerKey: "cus_many_2", trigger: "stripe", reason: "second", eventId: "evt_m2" },
          { customerKey: "cus_many_1", trigger: "stripe", reason: "again", eventId: "evt_m3" },
          { customerKey: "cus_many_deferred", trigger: "stripe", reason: "now" },
        ],
        client,
      );
      await client.query("commit");
    } finally {
      client.release();
    }
    expect(await jobsFor("cus_many_1")).toEqual([
      {
        state: "created",
        deferred: false,
        data: { customerKey: "cus_many_1", trigger: "stripe", reason: "first", eventId: "evt_m1" },
      },
    ]);
    expect((await jobsFor("cus_many_2")).map((j) => j.data.reason)).toEqual(["second"]);
    // The deferred deletion's job now starts at once: the new request cannot wait behind it.
    expect((await jobsFor("cus_many_deferred")).map((j) => [j.state, j.deferred])).toEqual([
      ["created", false],
    ]);
  });

  it("commits and rolls back with the caller's transaction", async () => {
    const client = await db.pool.connect();
    try {
      await client.query("begin");
      await queue.enqueue({ customerKey: "cus_rolled_back", trigger: "stripe", reason: "x" }, client);
      expect(await jobsFor("cus_rolled_back")).toEqual([]); // not visible before commit
      await client.query("rollback");
      await client.query("begin");
      await queue.enqueue({ customerKey: "cus_committed", trigger: "stripe", reason: "x" }, client);
      await client.query("commit");
    } finally {
      client.release();
    }
    expect(await jobsFor("cus_rolled_back")).toEqual([]);
    expect((await jobsFor("cus_committed")).map((j) => j.state)).toEqual(["created"]);
  });

  it("lets an event pull a deferred reconcile forward, and a later deferral not push it back", async () => {
    const inAnHour = new Date(Date.now() + 3600_000);
    await queue.enqueue({
      customerKey: "cus_deferred",
      trigger: "sweep",
      reason: "deletion due",
      startAfter: inAnHour,
    });
    expect((await jobsFor("cus_deferred")).map((j) => j.deferred)).toEqual([true]);
    await queue.enqueue({ customerKey: "cus_deferred", trigger: "stripe", reason: "resubscribed" });
    expect((await jobsFor("cus_deferred")).map((j) => [j.state, j.deferred])).toEqual([["created", false]]);
    await queue.enqueue({
      customerKey: "cus_deferred",
      trigger: "sweep",
      reason: "later",
      startAfter: inAnHour,
    });
    expect((await jobsFor("cus_deferred")).map((j) => [j.state, j.deferred])).toEqual([["created", false]]);
  });
});

describe("work", () => {
  beforeAll(async () => {
    await queue.work(async (job) => handlers.get(job.customerKey)?.(job), { concurrency: 4 });
  });

  it("runs one reconcile per customer at a time: ten events during a run leave one queued + one active", async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const seen: ReconcileJob[] = [];
    let running = 0;
    let maxRunning = 0;
    handlers.set("cus_serial", async (job) => {
      running++;
      maxRunning = Math.max(maxRunning, running);
      seen.push(job);
      if (seen.length === 1) await gate;
      running--;
    });
    await queue.enqueue({
      customerKey: "cus_serial",
      trigger: "stripe",
      reason: "first",
      eventId: "evt_first",
    });
    await until(
      async () => seen.length,
      (n) => n === 1,
      "the first reconcile to start",
    );
    for (let i = 0; i < 10; i++)
      await queue.enqueue({
        customerKey: "cus_serial",
        trigger: "stripe",
        reason: "during",
        eventId: `evt_d${i}`,
      });
    const states = (await jobsFor("cus_serial")).map((j) => j.state).sort();
    expect(states.filter((s) => s === "active")).toHaveLength(1);
    expect(states.filter((s) => s === "created")).toHaveLength(1);
    release();
    await until(
      async () => (await jobsFor("cus_serial")).map((j) => j.state),
      (s) => s.every((state) => state === "completed"),
      "both reconciles to complete",
    );
    expect(seen.map((j) => [j.reason, j.eventId, j.trigger, j.attempt])).toEqual([
      ["first", "evt_first", "stripe", 0],
      ["during", "evt_d0", "stripe", 0],
    ]);
    expect(maxRunning).toBe(1);
  });

  it("retries with backoff, dead-letters after the last retry, and an operator's retry queues it again", async () => {
    const attempts: number[] = [];
    handlers.set("cus_failing", async (job) => {
      attempts.push(job.attempt);
      if (job.trigger !== "retry")
        throw new Error(`Stripe said no (attempt ${job.attempt}), key sk_test_hidden`);
    });
    await queue.enqueue({
      customerKey: "cus_failing",
      trigger: "stripe",
      reason: "invoice.paid",
      eventId: "evt_f",
    });
    const [letter] = await until(
      () => queue.deadLetters(),
      (letters) => letters.some((l) => l.customerKey === "cus_failing"),
      "the dead letter",
    ).catch(async (error: Error) => {
      throw new Error(
        `${error.message}; attempts ${attempts}; jobs ${JSON.stringify(await jobsFor("cus_failing"))}`,
      );
    });
    expect(attempts).toEqual([0, 1, 2]);
    expect(letter).toMatchObject({
      customerKey: "cus_failing",
      trigger: "stripe",
      reason: "invoice.paid",
      eventId: "evt_f",
      retries: 2,
      error: "Stripe said no (attempt 2), key sk_test_hidden",
    });
    const depth = await queue.depth();
    expect(depth.deadLetters).toBe(1);
    expect(depth.failed).toBeGreaterThanOrEqual(1);

    await queue.retryDeadLetter(letter?.id ?? "", "operator:ops@example.com");
    expect(await queue.deadLetters()).toEqual([]);
    await until(
      async () => (await jobsFor("cus_failing")).map((j) => [j.state, j.data.trigger]),
      (jobs) => jobs.some(([state, trigger]) => state === "completed" && trigger === "retry"),
      "the operator's retry to run",
    );
    const retried = (await jobsFor("cus_failing")).find((j) => j.data.trigger === "retry");
    expect(retried?.data).toMatchObject({
      customerKey: "cus_failing",
      requestedBy: "operator:ops@example.com",
      eventId: "evt_f",
    });
    expect(attempts).toEqual([0, 1, 2, 0]);
    await expect(queue.retryDeadLetter(letter?.id ?? "", "operator:ops@example.com")).rejects.toThrow(
      /no dead letter/,
    );
  });
});

describe("job expiry", () => {
  it("is set by the reconciling process, and a process without its settings never shortens it", async () => {
    const expiry = async () => (await queue.boss.getQueue("reconcile"))?.expireInSeconds;
    // Created by a process that does not reconcile (this file's): pg-boss's longest, 24 h.
    expect(await expiry()).toBe(24 * 3600);
    const reconciling = await openReconcileQueue({ url: db.url }, { expireInSeconds: 2255 });
    try {
      expect(await expiry()).toBe(2255);
      // An ingest-only process (or a CLI) opening the queue afterwards leaves the reconciler's expiry.
      const ingest = await openReconcileQueue({ url: db.url }, { retryLimit: 2 });
      await ingest.stop({ timeoutMs: 2000 });
      expect(await expiry()).toBe(2255);
    } finally {
      await reconciling.stop({ timeoutMs: 2000 });
      await queue.boss.updateQueue("reconcile", { expireInSeconds: 24 * 3600 });
    }
  });
});
