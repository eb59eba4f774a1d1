/**
 * Renewal day (issue 17): every customer's period rolls over within a window, and Stripe sends each
 * an `invoice.paid` of the cycle and a `customer.subscription.updated` whose previous attributes are
 * the period alone. The webhook service (`serve --no-worker` on embedded Postgres, durable commits)
 * holds that many settled tenants (running on the spec they last applied); a SECOND process sends
 * the signed events at an even pace over the window (open loop: a slow answer does not slow the
 * sender, as Stripe's deliveries do not wait for each other) and times every acknowledgement.
 * Reported: ack p50/p99/max against Stripe's timeout, reconciles caused (must be 0: no job queued),
 * then the sweep's listing of as many subscriptions from the local Stripe API under Stripe's rate
 * limiter: its time, pages and 429s waited out.
 *
 *   npm run bench -- renewal-day [--subscriptions N] [--window S] [--stripe-rate N] [--timeout S]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { Agent } from "node:http";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import type pg from "pg";
import { stripeClient } from "../billing/stripeClient.ts";
import { silentLogger } from "../logging/logger.ts";
import { buildEvent, signedDelivery } from "../stripe-local/events.ts";
import { startStripeLocal } from "../stripe-local/server.ts";
import { startWebhookService } from "../webhooks/main.ts";
import { listSubscriptions } from "../webhooks/reconcile/stripeSubscriptions.ts";
import { loadWebhookSettings } from "../webhooks/settings.ts";
import { parseBenchArgs, positiveInteger, positiveNumber } from "./benchArgs.ts";
import { benchModuleMain, loadInChild, postDelivery, webhookEndpoint } from "./loadProcess.ts";
import { percentile } from "./stats.ts";

export interface RenewalDayOptions {
  /** Subscriptions renewing (two events each). */
  readonly subscriptions: number;
  /** Seconds over which the renewals arrive. */
  readonly windowSeconds: number;
  /** Stripe's rate limit for the sweep's listing, requests a second (25 in test mode, 100 live). */
  readonly stripeRate: number;
  /** Stripe's webhook timeout the acknowledgements are held against, in seconds. */
  readonly timeoutSeconds: number;
}

export interface RenewalDayResult {
  readonly options: RenewalDayOptions;
  readonly events: number;
  readonly ack: { readonly p50Ms: number; readonly p99Ms: number; readonly maxMs: number };
  /** Acknowledgements slower than Stripe's timeout (Stripe would count them failed). */
  readonly overTimeout: number;
  readonly statuses: Readonly<Record<string, number>>;
  /** How late the sender fell behind its schedule at worst (the load process's own lag). */
  readonly senderLagMaxMs: number;
  /** Reconcile jobs queued by the renewals (the target is 0). */
  readonly reconcilesCaused: number;
  /** Event rows recorded, and of them marked handled without a reconcile. */
  readonly recorded: number;
  readonly handledWithoutReconcile: number;
  /** Subscriptions whose period end moved to the renewed one. */
  readonly periodsAdvanced: number;
  readonly sweep: {
    readonly subscriptions: number;
    readonly listMs: number;
    readonly pages: number;
    readonly rateLimited: number;
  };
  readonly cores: number;
  readonly load: readonly [number, number];
}

const SECRET = "whsec_bench_renewal_day";
/** Stripe's rate limit in test mode, requests a second (live mode allows 100): the stricter. */
export const STRIPE_TEST_MODE_RATE = 25;
/** The shortest figure published for Stripe's webhook timeout; Stripe's own pages name none. */
export const STRIPE_WEBHOOK_TIMEOUT_SECONDS = 3;
const DAY = 86_400;
/** The period that ends on renewal day, and the one it rolls into. */
const OLD_END = 1_798_761_600; // 2027-01-01
const NEW_END = OLD_END + 31 * DAY;

const padded = (i: number) => String(i).padStart(6, "0");
const customerId = (i: number) => `cus_renew${padded(i)}`;
const subscriptionId = (i: number) => `sub_renew${padded(i)}`;

function item(i: number, end: number) {
  return {
    id: `si_renew${i}`,
    object: "subscription_item",
    price: { id: "price_mindroom_starter", object: "price" },
    quantity: 1,
    current_period_start: end - 31 * DAY,
    current_period_end: end,
  };
}

/** The two events of subscription `i`'s renewal, as Stripe sends them. */
function renewalEvents(i: number) {
  const customer = customerId(i);
  return [
    buildEvent({
      type: "invoice.paid",
      object: {
        id: `in_renew${i}`,
        object: "invoice",
        customer,
        subscription: subscriptionId(i),
        billing_reason: "subscription_cycle",
        status: "paid",
        amount_paid: 4900,
      },
    }),
    buildEvent({
      type: "customer.subscription.updated",
      object: {
        id: subscriptionId(i),
        object: "subscription",
        customer,
        status: "active",
        cancel_at_period_end: false,
        latest_invoice: `in_renew${i}`,
        items: { object: "list", data: [item(i, NEW_END)] },
      },
      previousAttributes: {
        items: { object: "list", data: [item(i, OLD_END)] },
        latest_invoice: `in_old${i}`,
      },
    }),
  ];
}

// ---- the load process -------------------------------------------------------------------

interface LoadRequest {
  readonly url: string;
  readonly subscriptions: number;
  readonly windowMs: number;
}

interface LoadReport {
  readonly latenciesMs: number[];
  readonly statuses: Record<string, number>;
  readonly lagMaxMs: number;
}

/** Sends event k at k × window / events after the start, signing it just before (the tolerance is 5 min). */
async function load(req: LoadRequest): Promise<LoadReport> {
  const total = req.subscriptions * 2;
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  const endpoint = webhookEndpoint(req.url);
  const report: LoadReport = { latenciesMs: [], statuses: {}, lagMaxMs: 0 };
  let lagMaxMs = 0;
  const post = async (k: number) => {
    const event = renewalEvents(Math.floor(k / 2))[k % 2];
    if (!event) return;
    const delivery = signedDelivery(event, SECRET);
    const started = performance.now();
    const status = await postDelivery(agent, endpoint, delivery).then(
      (code) => String(code),
      (error: NodeJS.ErrnoException) => `error ${error.code ?? error.message}`,
    );
    report.latenciesMs.push(performance.now() - started);
    report.statuses[status] = (report.statuses[status] ?? 0) + 1;
  };
  const start = performance.now();
  const inFlight: Promise<void>[] = [];
  for (let k = 0; k < total; k++) {
    const due = start + (k * req.windowMs) / total;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
    lagMaxMs = Math.max(lagMaxMs, performance.now() - due);
    inFlight.push(post(k));
  }
  await Promise.all(inFlight);
  agent.destroy();
  return { ...report, lagMaxMs };
}

// ---- the measuring process --------------------------------------------------------------

/** Settled tenants in bulk: customer, instance running on its applied spec, subscription projection. */
async function seedSettledTenants(pool: pg.Pool, subscriptions: number): Promise<void> {
  await pool.query(
    `with c as (
       insert into public.customers (stripe_customer_id, email)
       select 'cus_renew' || lpad(i::text, 6, '0'), 'renew' || i || '@example.com'
         from generate_series(0, $1 - 1) as i
       returning id, stripe_customer_id)
     , i as (
       insert into public.instances (customer_id, slug, tier, desired_state, actual_state, spec_hash, applied_spec_hash)
       select id, 'renew-' || substr(stripe_customer_id, 10), 'starter', 'running', 'running', 'spec', 'spec' from c)
     insert into public.subscriptions (id, customer_id, stripe_customer_id, status, price_id, tier,
                                       cancel_at_period_end, current_period_end, last_synced_at)
     select 'sub_renew' || substr(stripe_customer_id, 10), id, stripe_customer_id, 'active',
            'price_mindroom_starter', 'starter', false, to_timestamp($2), now()
       from c`,
    [subscriptions, OLD_END],
  );
}

/** The sweep's listing of `count` subscriptions from the local Stripe API under its rate limiter. */
async function measureSweepListing(count: number, perSecond: number, log: (line: string) => void) {
  const server = await startStripeLocal({ unref: true });
  try {
    const stripe = stripeClient({ secretKey: server.secretKey, apiBase: server.url, maxNetworkRetries: 0 });
    log(`sweep: creating ${count} subscriptions in the local Stripe API (untimed)`);
    let next = 0;
    const create = async () => {
      while (next < count) {
        const i = next++;
        const customer = await stripe.customers.create({ email: `renew${i}@example.com` });
        await stripe.subscriptions.create({
          customer: customer.id,
          items: [{ price: "price_mindroom_starter" }],
        });
        if ((i + 1) % 1000 === 0) log(`  ${i + 1}/${count}`);
      }
    };
    await Promise.all(Array.from({ length: 8 }, create));
    server.setRateLimit({ perSecond });
    const before = server.rateLimited();
    let pages = 0;
    let rateLimited = 0;
    const counting = {
      subscriptions: {
        list: (params: Parameters<typeof stripe.subscriptions.list>[0]) => {
          pages++;
          return stripe.subscriptions.list(params);
        },
      },
    } as Pick<typeof stripe, "subscriptions">;
    const started = performance.now();
    let listed = 0;
    for await (const _ of listSubscriptions(counting, {}, { onRateLimited: () => rateLimited++ })) listed++;
    const listMs = performance.now() - started;
    if (listed !== count) throw new Error(`the sweep listed ${listed} subscriptions of ${count}`);
    if (server.rateLimited() - before !== rateLimited)
      throw new Error("the local API answered 429s that the listing did not see");
    // Attempts that were answered 429 are counted in `pages` too: report distinct pages.
    return { subscriptions: listed, listMs, pages: pages - rateLimited, rateLimited };
  } finally {
    await server.stop();
  }
}

export async function measureRenewalDay(
  options: RenewalDayOptions,
  log: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
): Promise<RenewalDayResult> {
  const dataDir = mkdtempSync(join(tmpdir(), "mindroom-bench-renewal-"));
  const loadBefore = loadavg()[0] ?? 0;
  try {
    const settings = loadWebhookSettings(
      { MINDROOM_DATA_DIR: dataDir, STRIPE_WEBHOOK_SECRET: SECRET, MINDROOM_WEBHOOKS_RATE: "0" },
      dataDir,
    );
    log(`starting the webhook service (embedded Postgres in ${dataDir}, durable commits)`);
    const service = await startWebhookService(settings, { worker: false, port: 0, logger: silentLogger });
    let partial: Omit<RenewalDayResult, "sweep" | "load">;
    try {
      log(`seeding ${options.subscriptions} settled tenants`);
      await seedSettledTenants(service.database.pool, options.subscriptions);
      log(
        `renewal day: ${options.subscriptions * 2} events over ${options.windowSeconds} s from a second process`,
      );
      const report = await loadInChild<LoadReport>(import.meta.filename, {
        url: service.url,
        subscriptions: options.subscriptions,
        windowMs: options.windowSeconds * 1000,
      } satisfies LoadRequest);
      const { rows } = await service.database.pool.query<{
        events: number;
        handled: number;
        jobs: number;
        advanced: number;
      }>(
        `select (select count(*)::int from public.stripe_events) as events,
                (select count(*)::int from public.stripe_events where processed_at is not null) as handled,
                (select count(*)::int from pgboss.job where name = 'reconcile') as jobs,
                (select count(*)::int from public.subscriptions where current_period_end = to_timestamp($1)) as advanced`,
        [NEW_END],
      );
      const sorted = [...report.latenciesMs].sort((a, b) => a - b);
      partial = {
        options,
        events: report.latenciesMs.length,
        ack: {
          p50Ms: percentile(sorted, 50),
          p99Ms: percentile(sorted, 99),
          maxMs: sorted.at(-1) ?? Number.NaN,
        },
        overTimeout: sorted.filter((ms) => ms > options.timeoutSeconds * 1000).length,
        statuses: report.statuses,
        senderLagMaxMs: report.lagMaxMs,
        reconcilesCaused: rows[0]?.jobs ?? Number.NaN,
        recorded: rows[0]?.events ?? 0,
        handledWithoutReconcile: rows[0]?.handled ?? 0,
        periodsAdvanced: rows[0]?.advanced ?? 0,
        cores: availableParallelism(),
      };
    } finally {
      await service.close();
    }
    const sweep = await measureSweepListing(options.subscriptions, options.stripeRate, log);
    return { ...partial, sweep, load: [loadBefore, loadavg()[0] ?? 0] };
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

export function renewalDayMet(result: RenewalDayResult): boolean {
  return (
    result.statuses["200"] === result.options.subscriptions * 2 &&
    result.overTimeout === 0 &&
    result.reconcilesCaused === 0
  );
}

export function renderRenewalDay(result: RenewalDayResult): string {
  const f = (n: number) => n.toFixed(1);
  const o = result.options;
  const statuses = Object.entries(result.statuses)
    .map(([status, count]) => `${count}× ${status}`)
    .join(", ");
  return [
    `renewal day: ${o.subscriptions} subscriptions renewing over ${o.windowSeconds} s (${result.events} events, ${f(result.events / o.windowSeconds)}/s), ${result.cores} cores`,
    `  ack latency p50 ${f(result.ack.p50Ms)} ms, p99 ${f(result.ack.p99Ms)} ms, max ${f(result.ack.maxMs)} ms; ${result.overTimeout} over Stripe's ${o.timeoutSeconds} s timeout; sender lag at worst ${f(result.senderLagMaxMs)} ms`,
    `  statuses: ${statuses}; rows ${result.recorded}, handled without a reconcile ${result.handledWithoutReconcile}, periods advanced ${result.periodsAdvanced}/${o.subscriptions}`,
    `  reconciles caused: ${result.reconcilesCaused} (target 0)`,
    `  sweep listing: ${result.sweep.subscriptions} subscriptions in ${f(result.sweep.listMs / 1000)} s, ${result.sweep.pages} pages, ${result.sweep.rateLimited} answered 429 and waited out (limiter ${o.stripeRate} requests/s)`,
    `  load average ${result.load[0].toFixed(2)} → ${result.load[1].toFixed(2)}; target (all acknowledged within the timeout, no reconcile): ${renewalDayMet(result) ? "met" : "missed"}`,
  ].join("\n");
}

const USAGE = `Usage: npm run bench -- renewal-day [--subscriptions N] [--window S] [--stripe-rate N] [--timeout S]

Renewal day: N settled tenants' subscriptions renew within a window, two signed events each,
sent by a second process to the webhook service on embedded Postgres; then the sweep's listing
of N subscriptions from the local Stripe API under Stripe's rate limiter.
  --subscriptions N  renewing subscriptions (default 10000)
  --window S         seconds over which the events arrive (default 600)
  --stripe-rate N    Stripe's rate limit for the listing, requests/s (default 25, test mode; live is 100)
  --timeout S        Stripe's webhook timeout to hold each acknowledgement against (default 3,
                     the shortest figure published for it; Stripe's own pages name none)
Exit codes: 0 target met, 1 a request failed, an ack was too slow or a reconcile was queued, 2 usage error.
`;

export async function renewalDayCli(argv: string[]): Promise<number> {
  const args = parseBenchArgs(
    argv,
    USAGE,
    {
      subscriptions: "10000",
      window: "600",
      "stripe-rate": String(STRIPE_TEST_MODE_RATE),
      timeout: String(STRIPE_WEBHOOK_TIMEOUT_SECONDS),
    },
    (values) => ({
      subscriptions: positiveInteger("subscriptions", values.subscriptions),
      windowSeconds: positiveNumber("window", values.window),
      stripeRate: positiveNumber("stripe-rate", values["stripe-rate"]),
      timeoutSeconds: positiveNumber("timeout", values.timeout),
    }),
  );
  if ("exitCode" in args) return args.exitCode;
  const { options } = args;
  const result = await measureRenewalDay(options);
  process.stdout.write(`${renderRenewalDay(result)}\n`);
  return renewalDayMet(result) ? 0 : 1;
}

if (import.meta.main) await benchModuleMain(renewalDayCli, load);
