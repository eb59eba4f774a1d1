/**
 * Webhook ingest under load (issue 6): the webhook service as `mindroom-webhooks serve
 * --no-worker` runs it (embedded Postgres in a fresh data folder, durable settings, migrations,
 * the pg-boss queue), driven by a SECOND node process that POSTs signed Stripe events over
 * keep-alive HTTP at a fixed concurrency. Every event has its own id and is recorded and
 * enqueued (or coalesced into its customer's waiting reconcile) in one committed transaction
 * before the 200; no reconcile runs, so the figures are ingest alone.
 *
 * Customers follow a skewed spread (a few busy, most quiet, as real billing traffic is), event
 * types a realistic mix; about one event in ten is a type that needs no reconcile. After the
 * run the database is checked: one row per event, one waiting job per customer that had one.
 *
 *   npm run bench -- webhook-ingest [--events N] [--concurrency N] [--customers N]
 *   node bench/webhookIngest.ts [same options]
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { Agent } from "node:http";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { silentLogger } from "../logging/logger.ts";
import { buildEvent, signedDelivery } from "../stripe-local/events.ts";
import { startWebhookService } from "../webhooks/main.ts";
import { loadWebhookSettings } from "../webhooks/settings.ts";
import { concernsSubscription } from "../webhooks/stripeWebhook.ts";
import { parseBenchArgs, positiveInteger } from "./benchArgs.ts";
import { benchModuleMain, loadInChild, postDelivery, webhookEndpoint } from "./loadProcess.ts";
import { percentile } from "./stats.ts";

export interface WebhookIngestOptions {
  /** Measured events (after a warm-up of a tenth as many, at least 200). */
  readonly events: number;
  /** Requests in flight at once from the load process. */
  readonly concurrency: number;
  /** Distinct Stripe customers the events are spread over. */
  readonly customers: number;
}

export interface WebhookIngestResult {
  readonly options: WebhookIngestOptions;
  readonly eventsPerSecond: number;
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly durationMs: number;
  /** HTTP status → count over the measured events (all 200 in a clean run). */
  readonly statuses: Readonly<Record<string, number>>;
  /** Rows in stripe_events and waiting reconcile jobs after the run, with what was expected. */
  readonly check: {
    readonly rows: number;
    readonly expectedRows: number;
    readonly jobs: number;
    readonly expectedJobs: number;
  };
  /**
   * CPU time per event (warm-up included) of the service process (HTTP, verification, pg client,
   * pg-boss), of Postgres (postmaster and backends) and of the load process: what the pipeline
   * costs whatever else runs on the machine.
   */
  readonly cpuMsPerEvent: { readonly service: number; readonly postgres: number; readonly load: number };
  readonly cores: number;
  /** 1-minute load average before and after (other people share the machine). */
  readonly load: readonly [number, number];
}

const SECRET = "whsec_bench_webhook_ingest";

/** Event types in proportion to a subscription business's traffic. */
const TYPE_MIX: readonly [string, number][] = [
  ["customer.subscription.updated", 25],
  ["invoice.paid", 20],
  ["invoice.payment_succeeded", 15],
  ["invoice.finalized", 10],
  ["customer.subscription.created", 8],
  ["checkout.session.completed", 8],
  ["invoice.payment_failed", 4],
  ["payment_intent.succeeded", 10], // recorded, no reconcile
];

/** Deterministic PRNG (mulberry32), so every run sends the same spread. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface PlannedEvent {
  readonly type: string;
  readonly customer: string;
}

/** Customers by a Zipf-like law (customer k with weight 1/(k+1)): a few busy, a long quiet tail. */
function plan(count: number, customers: number, seed: number): PlannedEvent[] {
  const next = random(seed);
  const weights = Array.from({ length: customers }, (_, k) => 1 / (k + 1));
  const total = weights.reduce((a, b) => a + b, 0);
  const cumulative: number[] = [];
  let sum = 0;
  for (const w of weights) {
    sum += w / total;
    cumulative.push(sum);
  }
  const typeTotal = TYPE_MIX.reduce((a, [, w]) => a + w, 0);
  const pick = (u: number) => {
    let lo = 0;
    let hi = cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((cumulative[mid] ?? 1) < u) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  return Array.from({ length: count }, () => {
    let t = next() * typeTotal;
    let type = "invoice.paid";
    for (const [candidate, w] of TYPE_MIX) {
      t -= w;
      if (t < 0) {
        type = candidate;
        break;
      }
    }
    return { type, customer: `cus_bench${String(pick(next())).padStart(6, "0")}` };
  });
}

function objectFor(event: PlannedEvent, i: number): object {
  const [kind] = event.type.split(".");
  if (kind === "invoice")
    return {
      id: `in_bench${i}`,
      object: "invoice",
      customer: event.customer,
      status: "paid",
      amount_paid: 4900,
    };
  if (kind === "checkout")
    return { id: `cs_bench${i}`, object: "checkout.session", customer: event.customer, mode: "subscription" };
  if (kind === "payment_intent")
    return { id: `pi_bench${i}`, object: "payment_intent", customer: event.customer, amount: 4900 };
  return {
    id: `sub_bench_${event.customer}`,
    object: "subscription",
    customer: event.customer,
    status: "active",
    items: { object: "list", data: [{ price: { id: "price_mindroom_starter" } }] },
  };
}

/** CPU time (ms) of the Postgres server whose data folder is under `dataDir`: postmaster and live children. */
function postgresCpuMs(dataDir: string): number {
  const pidFile = findFile(dataDir, "postmaster.pid", 4);
  if (!pidFile) return Number.NaN;
  const postmaster = Number(readFileSync(pidFile, "utf8").split("\n")[0]);
  const ticks = 100; // USER_HZ on Linux
  let total = 0;
  for (const entry of readdirSync("/proc")) {
    if (!/^[0-9]+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, "utf8");
    } catch {
      continue; // exited meanwhile
    }
    // Fields after the command (which may hold spaces): state ppid … utime(14) stime(15) cutime cstime.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const pid = Number(entry);
    if (pid !== postmaster && Number(fields[1]) !== postmaster) continue;
    total +=
      Number(fields[11]) +
      Number(fields[12]) +
      (pid === postmaster ? Number(fields[13]) + Number(fields[14]) : 0);
  }
  return (total / ticks) * 1000;
}

function findFile(dir: string, name: string, depth: number): string | undefined {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isFile() && entry.name === name) return path;
    if (entry.isDirectory() && depth > 0) {
      const found = findFile(path, name, depth - 1);
      if (found) return found;
    }
  }
  return undefined;
}

// ---- the load process -------------------------------------------------------------------

interface LoadRequest {
  readonly url: string;
  readonly concurrency: number;
  readonly warmup: number;
  readonly planned: readonly PlannedEvent[];
}

interface LoadReport {
  readonly latenciesMs: number[];
  readonly statuses: Record<string, number>;
  readonly durationMs: number;
  /** CPU of the load process while sending (signing excluded), in ms. */
  readonly cpuMs: number;
}

/** Runs in the child: signs every event up front (not timed), then sends them. */
async function load(req: LoadRequest): Promise<LoadReport> {
  const deliveries = req.planned.map((event, i) =>
    signedDelivery(buildEvent({ type: event.type, object: objectFor(event, i) }), SECRET),
  );
  const agent = new Agent({ keepAlive: true, maxSockets: req.concurrency });
  const endpoint = webhookEndpoint(req.url);
  const post = (i: number) => {
    const d = deliveries[i];
    return d ? postDelivery(agent, endpoint, d) : Promise.reject(new Error(`no delivery ${i}`));
  };
  const run = async (from: number, to: number, record: boolean, report: LoadReport) => {
    let next = from;
    const worker = async () => {
      while (next < to) {
        const i = next++;
        const started = performance.now();
        const status = await post(i);
        if (!record) continue;
        report.latenciesMs.push(performance.now() - started);
        report.statuses[status] = (report.statuses[status] ?? 0) + 1;
      }
    };
    await Promise.all(Array.from({ length: req.concurrency }, worker));
  };
  const cpuBefore = process.cpuUsage();
  const warm: LoadReport = { latenciesMs: [], statuses: {}, durationMs: 0, cpuMs: 0 };
  await run(0, req.warmup, false, warm);
  const report: LoadReport = { latenciesMs: [], statuses: {}, durationMs: 0, cpuMs: 0 };
  const started = performance.now();
  await run(req.warmup, deliveries.length, true, report);
  const durationMs = performance.now() - started;
  agent.destroy();
  const cpu = process.cpuUsage(cpuBefore);
  return { ...report, durationMs, cpuMs: (cpu.user + cpu.system) / 1000 };
}

// ---- the measuring process --------------------------------------------------------------

export async function measureWebhookIngest(
  options: WebhookIngestOptions,
  log: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
): Promise<WebhookIngestResult> {
  const dataDir = mkdtempSync(join(tmpdir(), "mindroom-bench-webhooks-"));
  const loadBefore = loadavg()[0] ?? 0;
  try {
    const settings = loadWebhookSettings(
      {
        MINDROOM_DATA_DIR: dataDir,
        STRIPE_WEBHOOK_SECRET: SECRET,
        // One source sends everything here: a per-source limit would measure the limiter.
        MINDROOM_WEBHOOKS_RATE: "0",
        MINDROOM_WEBHOOKS_DB_CONNECTIONS: String(Math.max(4, options.concurrency)),
      },
      dataDir,
    );
    log(`starting the webhook service (embedded Postgres in ${dataDir}, durable commits)`);
    const service = await startWebhookService(settings, { worker: false, port: 0, logger: silentLogger });
    try {
      const warmup = Math.max(200, Math.floor(options.events / 10));
      const planned = plan(warmup + options.events, options.customers, 6);
      log(
        `load: ${options.events} events (+${warmup} warm-up) over ${options.customers} customers, ${options.concurrency} in flight, from a second process`,
      );
      const cpuBefore = process.cpuUsage();
      const postgresBefore = postgresCpuMs(dataDir);
      const report = await loadInChild<LoadReport>(import.meta.filename, {
        url: service.url,
        concurrency: options.concurrency,
        warmup,
        planned,
      } satisfies LoadRequest);
      const cpu = process.cpuUsage(cpuBefore);
      const postgresMs = postgresCpuMs(dataDir) - postgresBefore;
      const { rows } = await service.database.pool.query<{ events: number; jobs: number }>(
        `select (select count(*)::int from public.stripe_events) as events,
                (select count(*)::int from pgboss.job where name = 'reconcile' and state = 'created') as jobs`,
      );
      const expectedJobs = new Set(planned.filter((e) => concernsSubscription(e.type)).map((e) => e.customer))
        .size;
      const sorted = [...report.latenciesMs].sort((a, b) => a - b);
      return {
        options,
        eventsPerSecond: (report.latenciesMs.length / report.durationMs) * 1000,
        p50Ms: percentile(sorted, 50),
        p90Ms: percentile(sorted, 90),
        p99Ms: percentile(sorted, 99),
        maxMs: sorted.at(-1) ?? Number.NaN,
        durationMs: report.durationMs,
        statuses: report.statuses,
        check: {
          rows: rows[0]?.events ?? 0,
          expectedRows: planned.length,
          jobs: rows[0]?.jobs ?? 0,
          expectedJobs,
        },
        cpuMsPerEvent: {
          service: (cpu.user + cpu.system) / 1000 / planned.length,
          postgres: postgresMs / planned.length,
          load: report.cpuMs / planned.length,
        },
        cores: availableParallelism(),
        load: [loadBefore, loadavg()[0] ?? 0],
      };
    } finally {
      await service.close();
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

export function renderWebhookIngest(result: WebhookIngestResult): string {
  const f = (n: number) => n.toFixed(1);
  const c = result.cpuMsPerEvent;
  const statuses = Object.entries(result.statuses)
    .map(([status, count]) => `${count}× ${status}`)
    .join(", ");
  return [
    `webhook ingest: ${result.options.events} signed events, ${result.options.concurrency} in flight, ${result.options.customers} customers, ${result.cores} cores`,
    `  ${Math.round(result.eventsPerSecond)} events/s; latency p50 ${f(result.p50Ms)} ms, p90 ${f(result.p90Ms)} ms, p99 ${f(result.p99Ms)} ms, max ${f(result.maxMs)} ms`,
    `  CPU per event: service ${c.service.toFixed(2)} ms, Postgres ${c.postgres.toFixed(2)} ms, load process ${c.load.toFixed(2)} ms; on ${result.cores} idle cores that is at most ${Math.round((result.cores * 1000) / (c.service + c.postgres + c.load))} events/s`,
    `  statuses: ${statuses}; rows ${result.check.rows}/${result.check.expectedRows}, waiting reconciles ${result.check.jobs}/${result.check.expectedJobs} (one per customer)`,
    `  load average ${result.load[0].toFixed(2)} → ${result.load[1].toFixed(2)}; target (issue 17) ≥ 2000 events/s with p99 < 20 ms: ${result.eventsPerSecond >= 2000 && result.p99Ms < 20 ? "met" : "missed"}`,
  ].join("\n");
}

const USAGE = `Usage: npm run bench -- webhook-ingest [--events N] [--concurrency N] [--customers N]

The webhook service on embedded Postgres, loaded by a second process with signed events.
  --events N        measured events (default 10000; a warm-up of a tenth more runs first)
  --concurrency N   requests in flight (default 16)
  --customers N     distinct customers (default 2000)
Exit codes: 0 done, 1 a request failed or the rows/jobs check did not add up, 2 usage error.
`;

/** `npm run bench -- webhook-ingest …` (bench/main.ts hands over here). */
export async function webhookIngestCli(argv: string[]): Promise<number> {
  const args = parseBenchArgs(
    argv,
    USAGE,
    { events: "10000", concurrency: "16", customers: "2000" },
    (values) => ({
      events: positiveInteger("events", values.events),
      concurrency: positiveInteger("concurrency", values.concurrency),
      customers: positiveInteger("customers", values.customers),
    }),
  );
  if ("exitCode" in args) return args.exitCode;
  const { options } = args;
  const result = await measureWebhookIngest(options);
  process.stdout.write(`${renderWebhookIngest(result)}\n`);
  const ok = result.statuses["200"] === options.events;
  const consistent =
    result.check.rows === result.check.expectedRows && result.check.jobs === result.check.expectedJobs;
  return ok && consistent ? 0 : 1;
}

if (import.meta.main) await benchModuleMain(webhookIngestCli, load);
