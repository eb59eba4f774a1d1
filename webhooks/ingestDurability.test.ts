/**
 * Durable before the 2xx: Postgres is killed (SIGKILL, every process of the cluster, no shutdown)
 * while signed events stream in, then started again on the same folder; every event that had been
 * answered 200 is there with its reconcile job. A cluster of its own with Postgres' durable
 * defaults (fsync, synchronous commit), not the shared test server, which runs without them.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, expect, it } from "vitest";
import { type EmbeddedPostgresServer, startEmbeddedPostgres } from "../database/embedded.ts";
import { migrate } from "../database/migrate.ts";
import { silentLogger } from "../logging/logger.ts";
import { TrustedProxies } from "../net/clientAddress.ts";
import { buildEvent, signedDelivery } from "../stripe-local/events.ts";
import { createApp } from "./app.ts";
import { createMetrics } from "./metrics.ts";
import { openReconcileQueue, type ReconcileQueue } from "./queue.ts";

const SECRET = "whsec_durability_test";
const dataDir = mkdtempSync(join(tmpdir(), "mindroom-ingest-durability-"));
let server: EmbeddedPostgresServer | undefined;
let pool: pg.Pool | undefined;
let queue: ReconcileQueue | undefined;
let http: Server | undefined;

beforeAll(async () => {
  server = await startEmbeddedPostgres({ dataDir });
  pool = new pg.Pool({ connectionString: server.url, max: 8, connectionTimeoutMillis: 5000 });
  // Connections die with the server on purpose here.
  pool.on("error", () => undefined);
  await migrate(pool, { supabaseCompat: true });
  queue = await openReconcileQueue({ url: server.url }, { onError: () => undefined });
  const app = createApp({
    pool,
    queue,
    stripe: { webhookSecret: SECRET },
    http: {
      bodyLimitBytes: 64 * 1024,
      toleranceSeconds: 300,
      rateLimit: undefined,
      trustedProxies: TrustedProxies.none(),
    },
    metrics: createMetrics({
      queueDepth: () => Promise.reject(new Error("not scraped")),
      processMetrics: false,
    }),
    logger: silentLogger,
  });
  http = app.listen(0, "127.0.0.1");
  await new Promise((resolve) => http?.once("listening", resolve));
}, 240_000);

afterAll(async () => {
  await new Promise((resolve) => (http ? http.close(resolve) : resolve(undefined)));
  await queue?.stop({ timeoutMs: 2000 }).catch(() => undefined);
  await pool?.end().catch(() => undefined);
  await server?.stop();
  rmSync(dataDir, { recursive: true, force: true });
}, 120_000);

/** The postmaster and its children: what a crash (or `kill -9` by the OOM killer) takes away at once. */
function clusterProcesses(): number[] {
  const postmaster = Number(readFileSync(join(dataDir, "postgres", "postmaster.pid"), "utf8").split("\n")[0]);
  const children = readdirSync("/proc")
    .filter((entry) => /^[0-9]+$/.test(entry))
    .filter((entry) => {
      try {
        const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
        return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]) === postmaster;
      } catch {
        return false; // exited meanwhile
      }
    })
    .map(Number);
  return [postmaster, ...children];
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

it("every event answered 200 survives Postgres being killed right after, with its reconcile job", async () => {
  const url = `http://127.0.0.1:${(http?.address() as AddressInfo | undefined)?.port}/stripe/webhook`;
  const deliveries = Array.from({ length: 120 }, (_, i) =>
    signedDelivery(
      buildEvent({
        type: "customer.subscription.updated",
        object: { id: `sub_d${i}`, object: "subscription", customer: `cus_durable${i}`, status: "active" },
      }),
      SECRET,
    ),
  );
  const acknowledged: string[] = [];
  let killed: Promise<void> | undefined;
  const kill = async () => {
    const pids = clusterProcesses();
    for (const pid of pids) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // exited meanwhile
      }
    }
    while (pids.some(alive)) await new Promise((resolve) => setTimeout(resolve, 50));
  };
  let next = 0;
  const sender = async () => {
    while (next < deliveries.length) {
      const d = deliveries[next++];
      if (!d) return;
      const response = await fetch(url, { method: "POST", body: d.body, headers: d.headers }).catch(
        () => undefined,
      );
      if (response?.status === 200) {
        acknowledged.push((JSON.parse(d.body) as { id: string }).id);
        // Kill while other requests are still in flight, some of them in a batch being written.
        if (acknowledged.length === 40) killed ??= kill();
      }
      await response?.text();
    }
  };
  await Promise.all(Array.from({ length: 12 }, sender));
  await killed;
  expect(acknowledged.length).toBeGreaterThanOrEqual(40);

  server = await startEmbeddedPostgres({ dataDir });
  const check = new pg.Client({ connectionString: server.url });
  await check.connect();
  try {
    const { rows } = await check.query<{ id: string; job: boolean }>(
      `select e.id, exists (select 1 from pgboss.job j where j.name = 'reconcile' and j.singleton_key = e.customer_id) as job
         from public.stripe_events e where e.id = any($1)`,
      [acknowledged],
    );
    expect(rows.map((r) => r.id).sort()).toEqual([...acknowledged].sort());
    expect(rows.every((r) => r.job)).toBe(true);
  } finally {
    await check.end();
  }
}, 240_000);
