/**
 * POST /stripe/webhook end to end in process: real Postgres (a fresh migrated database), the real
 * pg-boss queue, events built and signed by stripe-local/events.ts (stripe-node's own
 * `generateTestHeaderString`). Every case checks the status and the exact rows and jobs left.
 */
import { request } from "node:http";
import type { AddressInfo } from "node:net";
import pg from "pg";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createLogger } from "../logging/logger.ts";
import { TrustedProxies } from "../net/clientAddress.ts";
import { buildEvent, signedDelivery } from "../stripe-local/events.ts";
import { type TestDatabase, testDatabase } from "../testing/database.ts";
import { stripeLocal } from "../testing/stripeLocal.ts";
import { type AppOptions, createApp } from "./app.ts";
import { createMetrics } from "./metrics.ts";
import { startMetricsServer } from "./metricsServer.ts";
import { openReconcileQueue, type ReconcileQueue } from "./queue.ts";

const SECRET = "whsec_ingest_test_secret_0123456789";
const LIMIT = 64 * 1024;
/** Appears in event bodies only: a log line containing it would be logging a payload. */
const BODY_MARKER = "body-marker-5f1c";

let db: TestDatabase;
let queue: ReconcileQueue;
const logLines: string[] = [];
const closers: (() => Promise<void>)[] = [];

interface Service {
  url: string;
  post(
    body: string,
    headers: Record<string, string>,
  ): Promise<{ status: number; body: unknown; headers: Headers }>;
}

async function serve(overrides: Partial<AppOptions> = {}): Promise<Service> {
  const app = createApp({
    pool: db.pool,
    queue,
    stripe: { webhookSecret: SECRET },
    http: {
      bodyLimitBytes: LIMIT,
      toleranceSeconds: 300,
      rateLimit: undefined,
      trustedProxies: TrustedProxies.none(),
    },
    metrics: createMetrics({ queueDepth: () => queue.depth(), processMetrics: false }),
    logger: createLogger({ level: "debug", stream: { write: (line: string) => logLines.push(line) > 0 } }),
    ...overrides,
  });
  const server = app.listen(0, "127.0.0.1");
  await new Promise((resolve) => server.once("listening", resolve));
  closers.push(() => new Promise((resolve) => server.close(() => resolve())));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    async post(body, headers) {
      const response = await fetch(`${url}/stripe/webhook`, { method: "POST", body, headers });
      const text = await response.text();
      return {
        status: response.status,
        body: text ? JSON.parse(text) : undefined,
        headers: response.headers,
      };
    },
  };
}

/** POST with explicit chunks (no Content-Length when `chunked`), answering whatever status arrives. */
function rawPost(
  url: string,
  chunks: Buffer[],
  headers: Record<string, string>,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}/stripe/webhook`, { method: "POST", headers }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk) => {
        body += chunk;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    // The server may stop reading and close once it has answered 413: that is the point.
    req.on("error", (error: NodeJS.ErrnoException) => {
      if (error.code !== "EPIPE" && error.code !== "ECONNRESET") reject(error);
    });
    const write = (i: number) => {
      if (i >= chunks.length) return req.end();
      req.write(chunks[i], () => setImmediate(() => write(i + 1)));
    };
    write(0);
  });
}

function subscriptionEvent(customer: unknown, type = "customer.subscription.updated", id?: string) {
  return buildEvent({
    type,
    ...(id ? { id } : {}),
    object: {
      id: "sub_test_1",
      object: "subscription",
      customer,
      status: "active",
      metadata: { note: BODY_MARKER },
    },
  });
}

async function events() {
  const { rows } = await db.pool.query(
    "select id, type, customer_id, object_id, livemode, payload from public.stripe_events order by received_at, id",
  );
  return rows;
}

async function jobs() {
  const { rows } = await db.pool.query(
    "select singleton_key as key, data from pgboss.job where name = 'reconcile' order by created_on",
  );
  return rows;
}

let service: Service;

beforeAll(async () => {
  db = await testDatabase();
  queue = await openReconcileQueue({ url: db.url });
  service = await serve();
});

afterAll(async () => {
  for (const close of closers.reverse()) await close();
  await queue?.stop({ timeoutMs: 2000 });
  await db?.close();
});

beforeEach(async () => {
  await db.pool.query("truncate public.stripe_events");
  await db.pool.query("delete from pgboss.job where name = 'reconcile'");
});

describe("accepted events", () => {
  it("records the event and queues a reconcile of its customer, in one answer", async () => {
    const event = subscriptionEvent("cus_A1");
    const response = await service.post(signedDelivery(event, SECRET).body, {
      ...signedDelivery(event, SECRET).headers,
      "x-request-id": "delivery-a1",
    });
    expect(response).toMatchObject({ status: 200, body: { received: true } });
    expect(response.headers.get("x-request-id")).toBe("delivery-a1");
    expect(await events()).toEqual([
      {
        id: event.id,
        type: "customer.subscription.updated",
        customer_id: "cus_A1",
        object_id: "sub_test_1",
        livemode: false,
        payload: event,
      },
    ]);
    expect(await jobs()).toEqual([
      {
        key: "cus_A1",
        data: {
          customerKey: "cus_A1",
          trigger: "stripe",
          reason: "customer.subscription.updated",
          eventId: event.id,
          // The delivery's request id rides along: the worker's logs and the operation row carry it.
          requestId: "delivery-a1",
        },
      },
    ]);
  });

  it.each([
    ["checkout.session.completed", { id: "cs_1", object: "checkout.session", customer: "cus_B1" }, "cus_B1"],
    [
      "checkout.session.async_payment_failed",
      { id: "cs_2", object: "checkout.session", customer: "cus_B2" },
      "cus_B2",
    ],
    ["customer.subscription.created", { id: "sub_1", object: "subscription", customer: "cus_B3" }, "cus_B3"],
    ["customer.subscription.deleted", { id: "sub_2", object: "subscription", customer: "cus_B4" }, "cus_B4"],
    ["invoice.paid", { id: "in_1", object: "invoice", customer: "cus_B5" }, "cus_B5"],
    // An expanded customer object names it by its id.
    [
      "invoice.payment_failed",
      { id: "in_2", object: "invoice", customer: { id: "cus_B6", object: "customer" } },
      "cus_B6",
    ],
    ["customer.deleted", { id: "cus_B7", object: "customer" }, "cus_B7"],
  ])("%s queues a reconcile of the customer it names", async (type, object, customer) => {
    const delivery = signedDelivery(buildEvent({ type, object }), SECRET);
    expect((await service.post(delivery.body, delivery.headers)).status).toBe(200);
    expect((await events()).map((e) => [e.type, e.customer_id])).toEqual([[type, customer]]);
    expect((await jobs()).map((j) => [j.key, j.data.reason])).toEqual([[customer, type]]);
  });

  it.each([
    [
      "an unknown type",
      buildEvent({
        type: "radar.early_fraud_warning.created",
        object: { id: "issfr_1", object: "radar.early_fraud_warning" },
      }),
      null,
    ],
    [
      "a type we do not act on, naming a customer",
      buildEvent({
        type: "payment_intent.succeeded",
        object: { id: "pi_1", object: "payment_intent", customer: "cus_C1" },
      }),
      "cus_C1",
    ],
    [
      "customer.updated",
      buildEvent({ type: "customer.updated", object: { id: "cus_C2", object: "customer" } }),
      "cus_C2",
    ],
    [
      "a checkout without a customer",
      buildEvent({
        type: "checkout.session.completed",
        object: { id: "cs_3", object: "checkout.session", customer: null },
      }),
      null,
    ],
  ])("%s is recorded and acknowledged, and queues nothing", async (_, event, customer) => {
    const delivery = signedDelivery(event, SECRET);
    expect(await service.post(delivery.body, delivery.headers)).toMatchObject({
      status: 200,
      body: { received: true },
    });
    expect((await events()).map((e) => [e.id, e.customer_id])).toEqual([[event.id, customer]]);
    expect(await jobs()).toEqual([]);
  });

  it("answers a redelivery 200 duplicate and writes nothing more, whatever the new body says", async () => {
    const event = subscriptionEvent("cus_D1");
    const first = signedDelivery(event, SECRET);
    expect((await service.post(first.body, first.headers)).body).toEqual({ received: true });
    await db.pool.query("delete from pgboss.job where name = 'reconcile'"); // the reconcile ran meanwhile
    const again = signedDelivery(event, SECRET);
    expect(await service.post(again.body, again.headers)).toMatchObject({
      status: 200,
      body: { received: true, duplicate: true },
    });
    const altered = signedDelivery({ ...event, type: "invoice.paid" }, SECRET);
    expect((await service.post(altered.body, altered.headers)).body).toEqual({
      received: true,
      duplicate: true,
    });
    expect((await events()).map((e) => [e.id, e.type])).toEqual([
      [event.id, "customer.subscription.updated"],
    ]);
    expect(await jobs()).toEqual([]);
  });
});

describe("renewal day with the local Stripe API's own renewal", () => {
  it("a settled tenant's renewal, as the local API sends it, queues no reconcile; an unsettled one's does", async () => {
    const local = await stripeLocal({ fresh: true });
    try {
      local.addWebhook(`${service.url}/stripe/webhook`, SECRET);
      const renew = async (settled: boolean) => {
        const customer = await local.stripe.customers.create({ email: `renew-${settled}@example.com` });
        const sub = await local.stripe.subscriptions.create({
          customer: customer.id,
          items: [{ price: "price_mindroom_starter" }],
        });
        await local.idle();
        // The tenant as the worker leaves it after its first up (or with a spec still to apply).
        await db.pool.query(
          `with c as (insert into public.customers (stripe_customer_id) values ($1) returning id)
           insert into public.instances (customer_id, slug, tier, desired_state, actual_state, spec_hash, applied_spec_hash)
           select id, $2, 'starter', 'running', 'running', 'spec-2', $3 from c`,
          [customer.id, `renew-${settled}`, settled ? "spec-2" : "spec-1"],
        );
        await db.pool.query("truncate public.stripe_events");
        await db.pool.query("delete from pgboss.job where name = 'reconcile'");
        await local.controls.periodEnd(sub.id);
        await local.idle();
        const recorded = await db.pool.query<{ type: string; processed: boolean }>(
          "select type, processed_at is not null as processed from public.stripe_events where customer_id = $1 order by type",
          [customer.id],
        );
        return { events: recorded.rows, jobs: (await jobs()).map((j) => j.key), customer: customer.id };
      };
      const settled = await renew(true);
      expect(settled.events.map((e) => e.type)).toContain("customer.subscription.updated");
      expect(settled.events.map((e) => e.type)).toContain("invoice.paid");
      expect(settled.jobs).toEqual([]);
      // Every event that concerns the subscription was handled without a reconcile.
      expect(
        settled.events
          .filter((e) => /^(invoice|customer\.subscription)\./.test(e.type))
          .every((e) => e.processed),
      ).toBe(true);
      const unsettled = await renew(false);
      expect(unsettled.jobs).toEqual([unsettled.customer]);
    } finally {
      await local.stop();
    }
  });
});

describe("refused requests leave nothing behind", () => {
  const cases: [string, () => Promise<{ status: number; body: unknown }>, number, string][] = [
    [
      "no signature",
      () => {
        const { body, headers } = signedDelivery(subscriptionEvent("cus_E1"), SECRET);
        const { "stripe-signature": _, ...rest } = headers;
        return service.post(body, rest);
      },
      400,
      "missing_signature",
    ],
    [
      "a signature made with another secret",
      () => {
        const d = signedDelivery(subscriptionEvent("cus_E2"), "whsec_someone_else");
        return service.post(d.body, d.headers);
      },
      400,
      "bad_signature",
    ],
    [
      "a body changed after signing",
      () => {
        const d = signedDelivery(subscriptionEvent("cus_E3"), SECRET);
        return service.post(d.body.replace("cus_E3", "cus_EVIL"), d.headers);
      },
      400,
      "bad_signature",
    ],
    [
      "a timestamp outside the tolerance (a replay)",
      () => {
        const d = signedDelivery(subscriptionEvent("cus_E4"), SECRET, Math.floor(Date.now() / 1000) - 600);
        return service.post(d.body, d.headers);
      },
      400,
      "timestamp_outside_tolerance",
    ],
    [
      "malformed JSON, correctly signed",
      async () => {
        const { headers } = signedDelivery({}, SECRET);
        const body = '{"id": "evt_1", "type": ';
        const { generateTestHeaderString } = (await import("stripe")).default.webhooks;
        return service.post(body, {
          ...headers,
          "stripe-signature": generateTestHeaderString({ payload: body, secret: SECRET }),
        });
      },
      400,
      "malformed_json",
    ],
    [
      "JSON that is not an event, correctly signed",
      () => {
        const d = signedDelivery({ hello: "world" }, SECRET);
        return service.post(d.body, d.headers);
      },
      400,
      "invalid_event",
    ],
    [
      "an event holding a value Postgres cannot store (\\u0000), correctly signed",
      () => {
        const event = buildEvent({
          type: "customer.subscription.updated",
          object: {
            id: "sub_nul",
            object: "subscription",
            customer: "cus_E5",
            metadata: { note: "a\u0000b" },
          },
        });
        const d = signedDelivery(event, SECRET);
        return service.post(d.body, d.headers);
      },
      400,
      "unstorable_event",
    ],
  ];

  it.each(cases)("%s: 400 with its own code, nothing written", async (_, send, status, code) => {
    const response = await send();
    expect(response.status).toBe(status);
    expect(response.body).toMatchObject({ error: { code } });
    expect(await events()).toEqual([]);
    expect(await jobs()).toEqual([]);
  });

  it("refuses a body over the limit by its declared length (413), before reading it", async () => {
    const event = buildEvent({
      type: "customer.subscription.updated",
      object: { id: "sub_big", object: "subscription", customer: "cus_F1", padding: "x".repeat(LIMIT) },
    });
    const d = signedDelivery(event, SECRET);
    const response = await rawPost(service.url, [Buffer.from(d.body)], {
      ...d.headers,
      "content-length": String(Buffer.byteLength(d.body)),
    });
    expect(response.status).toBe(413);
    expect(JSON.parse(response.body)).toMatchObject({ error: { code: "body_too_large" } });
    expect(await events()).toEqual([]);
    expect(await jobs()).toEqual([]);
  });

  it("cuts off a chunked body that runs over the limit (413)", async () => {
    const d = signedDelivery(subscriptionEvent("cus_F2"), SECRET);
    const chunk = Buffer.alloc(16 * 1024, " ");
    const chunks = [
      Buffer.from(d.body.slice(0, -1)),
      ...Array.from({ length: 8 }, () => chunk),
      Buffer.from("}"),
    ];
    const response = await rawPost(service.url, chunks, { ...d.headers, "transfer-encoding": "chunked" });
    expect(response.status).toBe(413);
    expect(await events()).toEqual([]);
  });

  it("accepts a chunked body under the limit", async () => {
    const d = signedDelivery(subscriptionEvent("cus_F3"), SECRET);
    const bytes = Buffer.from(d.body);
    const response = await rawPost(service.url, [bytes.subarray(0, 100), bytes.subarray(100)], {
      ...d.headers,
      "transfer-encoding": "chunked",
    });
    expect(response.status).toBe(200);
    expect((await events()).map((e) => e.customer_id)).toEqual(["cus_F3"]);
  });

  it("answers 503 when the job cannot be queued, and the event row is rolled back with it", async () => {
    const broken = await serve({
      queue: {
        enqueueAll: async () => {
          throw new Error("queue table is gone");
        },
        ping: () => queue.ping(),
      },
    });
    const d = signedDelivery(subscriptionEvent("cus_G1"), SECRET);
    const response = await broken.post(d.body, d.headers);
    expect(response).toMatchObject({ status: 503, body: { error: { code: "unavailable" } } });
    expect(await events()).toEqual([]);
    expect(await jobs()).toEqual([]);
    // Stripe's retry, once the queue is back, is a first delivery, not a duplicate.
    expect((await service.post(d.body, d.headers)).body).toEqual({ received: true });
  });

  it("answers 503 when the database is unreachable, and /readyz says so", async () => {
    const unreachable = new pg.Pool({
      connectionString: "postgres://nobody:nothing@127.0.0.1:9/none",
      connectionTimeoutMillis: 1000,
    });
    closers.push(() => unreachable.end());
    const down = await serve({ pool: unreachable });
    const d = signedDelivery(subscriptionEvent("cus_G2"), SECRET);
    expect(await down.post(d.body, d.headers)).toMatchObject({
      status: 503,
      body: { error: { code: "unavailable" } },
    });
    const ready = await fetch(`${down.url}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toEqual({
      status: "unavailable",
      checks: { database: "failed", queue: "ok" },
    });
    expect(await events()).toEqual([]);
  });

  it("limits each source address with 429 and Retry-After, before reading anything", async () => {
    const limited = await serve({
      http: {
        bodyLimitBytes: LIMIT,
        toleranceSeconds: 300,
        trustedProxies: TrustedProxies.none(),
        rateLimit: { perSecond: 0.1, burst: 2 },
      },
    });
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    for (const customer of ["cus_H1", "cus_H2", "cus_H3"]) {
      const d = signedDelivery(subscriptionEvent(customer), SECRET);
      const response = await limited.post(d.body, d.headers);
      statuses.push(response.status);
      if (response.status === 429) {
        retryAfter = response.headers.get("retry-after");
        expect(response.body).toMatchObject({ error: { code: "rate_limited" } });
      }
    }
    expect(statuses).toEqual([200, 200, 429]);
    expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
    expect((await events()).map((e) => e.customer_id).sort()).toEqual(["cus_H1", "cus_H2"]);
  });

  /** Five deliveries from this test (peer 127.0.0.1), each with its own X-Forwarded-For. */
  async function statusesWith(
    trusted: TrustedProxies,
    forwardedFor: (i: number) => string,
  ): Promise<number[]> {
    const limited = await serve({
      http: {
        bodyLimitBytes: LIMIT,
        toleranceSeconds: 300,
        trustedProxies: trusted,
        rateLimit: { perSecond: 0.1, burst: 2 },
      },
    });
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) {
      const d = signedDelivery(
        subscriptionEvent(`cus_X${i}${Math.random().toString(36).slice(2, 6)}`),
        SECRET,
      );
      statuses.push(
        (await limited.post(d.body, { ...d.headers, "x-forwarded-for": forwardedFor(i) })).status,
      );
    }
    return statuses;
  }

  it("without a trusted proxy, a client cannot escape its limit by writing X-Forwarded-For", async () => {
    expect(await statusesWith(TrustedProxies.none(), (i) => `198.51.100.${i}`)).toEqual([
      200, 200, 429, 429, 429,
    ]);
  });

  it("behind a trusted proxy, limits the address the proxy recorded, whatever the client put before it", async () => {
    const proxy = new TrustedProxies(["127.0.0.1"]);
    // Distinct clients behind the proxy each get their own bucket…
    expect(await statusesWith(proxy, (i) => `198.51.100.${i}`)).toEqual([200, 200, 200, 200, 200]);
    // …while one client prepending made-up addresses is still itself (the proxy appended its address last).
    expect(await statusesWith(proxy, (i) => `10.9.9.${i}, 203.0.113.50`)).toEqual([200, 200, 429, 429, 429]);
    const logged = logLines
      .map((l) => JSON.parse(l))
      .findLast((l) => l.msg === "request" && l.status === 429);
    expect(logged?.ip).toBe("203.0.113.50");
    // A proxy we do not trust is the client as far as we know.
    expect(await statusesWith(new TrustedProxies(["10.0.0.0/8"]), (i) => `198.51.100.${i}`)).toEqual([
      200, 200, 429, 429, 429,
    ]);
  });
});

describe("health, metrics, logs", () => {
  it("answers /healthz and /readyz when the database and the queue answer", async () => {
    expect(await (await fetch(`${service.url}/healthz`)).json()).toEqual({ status: "ok" });
    const ready = await fetch(`${service.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: "ready", checks: { database: "ok", queue: "ok" } });
  });

  it("answers 405 to other methods on the webhook", async () => {
    expect((await fetch(`${service.url}/stripe/webhook`)).status).toBe(405);
  });

  it("exposes requests, events by type and outcome, ingest latency and queue depth on the internal listener only", async () => {
    const metrics = createMetrics({ queueDepth: () => queue.depth(), processMetrics: false });
    const fresh = await serve({ metrics });
    const internal = await startMetricsServer([metrics.registry], { host: "127.0.0.1", port: 0 });
    closers.push(() => internal.close());
    const d = signedDelivery(subscriptionEvent("cus_M1", "invoice.paid"), SECRET);
    await fresh.post(d.body, d.headers);
    await fresh.post(d.body, d.headers);
    // Stripe's side of the service says nothing about the fleet.
    expect((await fetch(`${fresh.url}/metrics`)).status).toBe(404);
    expect(internal.url).not.toBe(fresh.url);
    expect((await fetch(`${internal.url}/stripe/webhook`, { method: "POST" })).status).toBe(405);
    const response = await fetch(`${internal.url}/metrics`);
    expect(response.headers.get("content-type")).toContain("text/plain");
    const text = await response.text();
    expect(text).toMatch(/mindroom_webhooks_events_total\{type="invoice.paid",outcome="enqueued"\} 1\n/);
    expect(text).toMatch(/mindroom_webhooks_events_total\{type="invoice.paid",outcome="duplicate"\} 1\n/);
    expect(text).toMatch(
      /mindroom_webhooks_http_requests_total\{method="POST",route="\/stripe\/webhook",status="200"\} \d+/,
    );
    expect(text).toMatch(/mindroom_webhooks_ingest_seconds_count\{outcome="enqueued"\} \d+/);
    expect(text).toMatch(/mindroom_reconcile_queue_jobs\{state="queued"\} 1\n/);
  });

  it("logs one JSON line per request, with ids and no secret, signature or body", async () => {
    logLines.length = 0;
    const event = subscriptionEvent("cus_L1");
    const d = signedDelivery(event, SECRET);
    await service.post(d.body, { ...d.headers, "x-request-id": "req-test-1" });
    const forged = signedDelivery(subscriptionEvent("cus_L2"), "whsec_forged_secret");
    await service.post(forged.body, forged.headers);
    const lines = logLines.map((line) => JSON.parse(line));
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({
      level: "info",
      msg: "request",
      requestId: "req-test-1",
      method: "POST",
      route: "/stripe/webhook",
      status: 200,
      eventId: event.id,
      eventType: "customer.subscription.updated",
      outcome: "enqueued",
    });
    expect(typeof lines[0].durationMs).toBe("number");
    expect(lines[1]).toMatchObject({
      level: "warn",
      status: 400,
      outcome: "rejected",
      error: { code: "bad_signature" },
    });
    const text = logLines.join("");
    for (const secret of [
      SECRET,
      "whsec_forged_secret",
      d.headers["stripe-signature"],
      forged.headers["stripe-signature"],
      BODY_MARKER,
    ])
      expect(text).not.toContain(secret);
  });
});
