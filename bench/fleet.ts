/**
 * The fleet through the whole pipeline (issue 17), on the benchmark's Dokku
 * test host: local Stripe → webhook service → its reconcile worker (a pool of
 * `poolSize`) → Pulumi engine, as production runs it.
 *
 *   1. checkout storm: `storm` customers pay at once; per customer, payment →
 *      tenant running with its spec applied (polled every 250 ms);
 *   2. the rest of `tenants` customers pay (untimed), so the fleet is complete;
 *   3. rollout: every tenant to a new runtime image through the rollout
 *      machinery (webhooks/rollouts.ts: canary, then waves), timed from the
 *      start to the last tenant converged; checked on the host afterwards;
 *   4. `mindroom-ops drift --all` over the whole fleet (bench/driftAll.ts).
 *
 * The tenants are not destroyed: the host and the data folder go with the run.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseSlug, tenantNames } from "../components/tenantNames.ts";
import { findRollout, rolloutTenants } from "../database/rollouts.ts";
import type { DokkuHost } from "../dokku-double/host.ts";
import type { DokkuTarget } from "../testing/dokkuTarget.ts";
import { checkOut } from "../testing/stripeLocal.ts";
import { type StripePipeline, startStripePipeline } from "../testing/stripePipeline.ts";
import { deployedImage } from "../testing/tenantObserver.ts";
import { waitFor } from "../testing/waitFor.ts";
import { automationEnvironment } from "../testing/webhookService.ts";
import { openReconcileQueue } from "../webhooks/queue.ts";
import { startRollout } from "../webhooks/rollouts.ts";
import { cpuWindow } from "./cpu.ts";
import { type DriftAllResult, measureDriftAll } from "./driftAll.ts";
import { type Bench, BenchFailure, now } from "./harness.ts";
import { percentile } from "./stats.ts";

export interface FleetOptions {
  /** Tenants in the fleet (rollout and drift --all run over all of them). */
  readonly tenants: number;
  /** Customers who pay at once in the checkout storm (the fleet's first tenants). */
  readonly storm: number;
  /** The reconcile worker's pool (`MINDROOM_AUTOMATION_WORKERS`). */
  readonly poolSize: number;
  /** The rollout's canary and wave size. */
  readonly canary: number;
  readonly batch: number;
}

export interface CheckoutStormResult {
  readonly checkouts: number;
  readonly poolSize: number;
  /** Payment → running with the spec applied, per customer, ascending. */
  readonly paymentToRunningMs: readonly number[];
  readonly p50Ms: number;
  readonly p95Ms: number;
  /** CPU of the control plane (service, worker, engine, Postgres) and of the test host, per tenant. */
  readonly cpuAutomationMsPerTenant: number;
  readonly cpuHostMsPerTenant: number;
}

export interface RolloutResult {
  readonly tenants: number;
  readonly poolSize: number;
  readonly canary: number;
  readonly batch: number;
  readonly waves: number;
  /** Start of the rollout → the last tenant converged. */
  readonly lastTenantMs: number;
  readonly tenantsPerMinute: number;
  readonly cpuAutomationMsPerTenant: number;
  readonly cpuHostMsPerTenant: number;
}

export interface FleetResult {
  readonly storm: CheckoutStormResult;
  /** The untimed provisioning of the rest of the fleet, for the record. */
  readonly restProvisionMs: number;
  readonly rollout: RolloutResult;
  readonly drift: DriftAllResult;
}

/** The image every tenant is moved to: pinned by digest, as rollouts require. */
export const ROLLOUT_IMAGE = `ghcr.io/mindroom-ai/mindroom@sha256:${"b".repeat(64)}`;

/** Engine work for a fleet on a loaded machine: generous, the run fails loudly rather than hang. */
const FLEET_WAIT = { timeoutMs: 3_600_000, intervalMs: 250 } as const;

/** The benchmark's host as the testing pipeline addresses a Dokku host. */
function targetOf(host: DokkuHost): DokkuTarget {
  return {
    url: host.url,
    shellUrl: host.shellUrl,
    user: host.user,
    host: host.host,
    port: host.port,
    keyPath: host.keyPath,
    knownHostsPath: host.knownHostsPath,
    isProjectHost: true,
    faults: host.faults,
    faultsUnavailable: undefined,
    commandLog: () => host.commandLog(),
    execTrace: undefined,
  };
}

/** Stripe customer id → whether their tenant runs with its current spec applied. */
async function runningCustomers(pipeline: StripePipeline): Promise<Map<string, boolean>> {
  const { rows } = await pipeline.db.pool.query<{ customer: string; running: boolean }>(
    `select c.stripe_customer_id as customer,
            (i.actual_state = 'running' and i.spec_hash is not null and i.applied_spec_hash = i.spec_hash) as running
       from public.customers c join public.instances i on i.customer_id = c.id`,
  );
  return new Map(rows.map((r) => [r.customer, r.running]));
}

/** Pays for `count` customers at once and waits until each tenant runs; payment → running per customer. */
async function payAndWait(
  bench: Bench,
  pipeline: StripePipeline,
  label: string,
  first: number,
  count: number,
): Promise<number[]> {
  const paid = new Map<string, number>();
  const running = new Map<string, number>();
  await Promise.all(
    Array.from({ length: count }, async (_, i) => {
      const n = first + i;
      const at = now();
      const { customer } = await checkOut(pipeline.stripe, {
        email: `fleet-${n}@example.com`,
        name: `Fleet ${n}`,
      });
      paid.set(customer, at);
    }),
  );
  let reported = 0;
  await waitFor(
    `${count} tenants (${label}) to run`,
    async () => {
      const polled = now();
      for (const [customer, ok] of await runningCustomers(pipeline))
        if (ok && paid.has(customer) && !running.has(customer)) running.set(customer, polled);
      if (running.size >= reported + Math.max(1, Math.ceil(count / 10)) || running.size === count) {
        reported = running.size;
        bench.log(`  ${label}: ${running.size}/${count} running`);
      }
      return running.size === count ? true : undefined;
    },
    {
      ...FLEET_WAIT,
      explain: () => pipeline.service.logs().slice(-3000),
    },
  );
  return [...paid].map(([customer, at]) => (running.get(customer) ?? Number.NaN) - at).sort((a, b) => a - b);
}

async function rollOut(
  bench: Bench,
  pipeline: StripePipeline,
  options: FleetOptions,
): Promise<RolloutResult> {
  const queue = await openReconcileQueue({ url: pipeline.db.url });
  try {
    bench.log(
      `rollout: ${options.tenants} tenants to a new image, canary ${options.canary}, waves of ${options.batch}, pool of ${options.poolSize}`,
    );
    const cpu = cpuWindow();
    const start = now();
    const rollout = await startRollout(
      { pool: pipeline.db.pool, boss: queue.boss },
      {
        image: ROLLOUT_IMAGE,
        canary: options.canary,
        batchSize: options.batch,
        requestedBy: "operator:bench",
      },
    );
    let reported = -1;
    const ended = await waitFor(
      "the rollout to end",
      async () => {
        const r = await findRollout(pipeline.db.pool, rollout.id);
        const tenants = await rolloutTenants(pipeline.db.pool, rollout.id);
        const moved = tenants.filter((t) => t.status === "succeeded").length;
        if (moved >= reported + Math.max(1, Math.ceil(tenants.length / 10))) {
          reported = moved;
          bench.log(
            `  rollout: ${moved}/${tenants.length} moved after ${((now() - start) / 1000).toFixed(0)} s`,
          );
        }
        return r && r.status !== "running" ? { rollout: r, tenants } : undefined;
      },
      { ...FLEET_WAIT, intervalMs: 1000 },
    );
    const used = cpu();
    if (ended.rollout.status !== "succeeded")
      throw new BenchFailure(`the rollout ${ended.rollout.status}: ${ended.rollout.error ?? ""}`);
    const last = Math.max(...ended.tenants.map((t) => t.finishedAt?.getTime() ?? Number.NaN));
    const lastTenantMs = last - start;
    if (!Number.isFinite(lastTenantMs)) throw new BenchFailure("the rollout recorded no finishing times");
    // The machinery's record is not the proof: every tenant's runtime app runs the new image.
    const target = targetOf(bench.host);
    const stale: string[] = [];
    for (let i = 0; i < ended.tenants.length; i += 8) {
      await Promise.all(
        ended.tenants.slice(i, i + 8).map(async (t) => {
          const image = await deployedImage(target, tenantNames(parseSlug(t.slug)).runtimeApp);
          if (image !== ROLLOUT_IMAGE) stale.push(`${t.slug} (${image})`);
        }),
      );
    }
    if (stale.length > 0)
      throw new BenchFailure(`after the rollout, not on the new image: ${stale.join(", ")}`);
    const n = ended.tenants.length;
    return {
      tenants: n,
      poolSize: options.poolSize,
      canary: options.canary,
      batch: options.batch,
      waves: new Set(ended.tenants.map((t) => t.wave)).size,
      lastTenantMs,
      tenantsPerMinute: (n / lastTenantMs) * 60_000,
      cpuAutomationMsPerTenant: used.automationMs / n,
      cpuHostMsPerTenant: used.hostMs / n,
    };
  } finally {
    await queue.stop({ timeoutMs: 1000 });
  }
}

export async function measureFleet(bench: Bench, options: FleetOptions): Promise<FleetResult> {
  if (options.storm > options.tenants)
    throw new BenchFailure(
      `the checkout storm (${options.storm}) is larger than the fleet (${options.tenants})`,
    );
  const dataDir = mkdtempSync(join(tmpdir(), "mindroom-bench-fleet-"));
  const target = targetOf(bench.host);
  bench.log(
    `fleet: starting the pipeline (database, local Stripe, webhook service with a pool of ${options.poolSize})`,
  );
  const pipeline = await startStripePipeline({
    dataDir,
    target,
    deletionGrace: "1h",
    env: {
      MINDROOM_AUTOMATION_WORKERS: String(options.poolSize),
      // Room for the whole fleet on the one host: placement is not what is measured.
      DOKKU_HOSTS: `${target.shellUrl}?memoryMb=1048576&cpus=64`,
    },
  });
  try {
    bench.log(`checkout storm: ${options.storm} customers pay at once`);
    const cpu = cpuWindow();
    const storm = await payAndWait(bench, pipeline, "checkout storm", 1, options.storm);
    const stormCpu = cpu();
    const rest = options.tenants - options.storm;
    bench.log(`fleet: ${rest} more customers pay (provisioning not timed)`);
    const restStart = now();
    if (rest > 0) await payAndWait(bench, pipeline, "the rest of the fleet", options.storm + 1, rest);
    const restProvisionMs = now() - restStart;
    const rollout = await rollOut(bench, pipeline, options);
    const { rows } = await pipeline.db.pool.query<{ slug: string }>(
      "select slug from public.instances where desired_state = 'running' order by slug",
    );
    const drift = await measureDriftAll(
      bench,
      rows.map((r) => r.slug),
      { ...automationEnvironment({ dataDir, target }), DATABASE_URL: pipeline.db.url },
    );
    return {
      storm: {
        checkouts: options.storm,
        poolSize: options.poolSize,
        paymentToRunningMs: storm,
        p50Ms: percentile(storm, 50),
        p95Ms: percentile(storm, 95),
        cpuAutomationMsPerTenant: stormCpu.automationMs / options.storm,
        cpuHostMsPerTenant: stormCpu.hostMs / options.storm,
      },
      restProvisionMs,
      rollout,
      drift,
    };
  } finally {
    await pipeline.service.stop();
    await pipeline.stripe.stop();
    await pipeline.db.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
