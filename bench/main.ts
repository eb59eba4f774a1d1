/**
 * `npm run bench`: the platform's benchmark (issues 4 and 17). Starts its own
 * Dokku test host, database and data folder, runs every measurement in order
 * (bench/options.ts lists them), prints the figures beside their floors and
 * targets, and writes them to docs/benchmarks.md. A measurement that fails is
 * named in the results as not run and the others go on; the exit code is then
 * 1. Exits 2 on a usage error.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { startDokkuHost } from "../dokku-double/host.ts";
import { testDatabase } from "../testing/database.ts";
import { type OperationProfile, profileOperations } from "./cliCalls.ts";
import { type EmptyUpResult, measureEmptyUp } from "./emptyUp.ts";
import { type FleetResult, measureFleet } from "./fleet.ts";
import { type FloorResult, measureFloor } from "./floor.ts";
import { runFocused } from "./focused.ts";
import { Bench, BenchFailure, now } from "./harness.ts";
import { load1, machineInfo, prepareEnvironment, uptime } from "./machine.ts";
import { type BenchOptions, parseBenchOptions, USAGE, UsageError } from "./options.ts";
import { measurePortal, type PortalRow } from "./portal.ts";
import { measureProvisioning, type ProvisionResult } from "./provision.ts";
import {
  measureRenewalDay,
  type RenewalDayResult,
  STRIPE_TEST_MODE_RATE,
  STRIPE_WEBHOOK_TIMEOUT_SECONDS,
} from "./renewalDay.ts";
import { type BenchResults, consoleTable, writeMarkdown } from "./report.ts";
import { mean } from "./stats.ts";
import { measureSteadyState, type SteadyStateResult } from "./steadyState.ts";
import { measureThroughput, type ThroughputRun } from "./throughput.ts";
import { measureWebhookIngest, type WebhookIngestResult } from "./webhookIngest.ts";

const ROOT = resolve(import.meta.dirname, "..");

/** The command as the operator typed it, for the results file. */
function commandLine(argv: readonly string[]): string {
  const args = argv.join(" ");
  if (process.env.npm_lifecycle_event === "bench") return `npm run bench${args ? ` -- ${args}` : ""}`;
  return `node bench/main.ts${args ? ` ${args}` : ""}`;
}

type NotRun = { scenario: string; reason: string }[];

/**
 * Runs one measurement; a failure is logged, recorded as not run (with the
 * engine's message) and returns undefined, so one broken scenario does not
 * cost the figures of the others.
 */
async function attempt<T>(
  bench: Bench,
  notRun: NotRun,
  scenario: string,
  measure: () => Promise<T>,
): Promise<T | undefined> {
  try {
    return await measure();
  } catch (error) {
    const e = error as Error;
    bench.log(`${scenario} FAILED: ${e instanceof BenchFailure ? e.message : (e.stack ?? e.message)}`);
    notRun.push({ scenario, reason: `failed: ${e.message.split("\n")[0]?.slice(0, 200) ?? ""}` });
    return undefined;
  }
}

interface FullRun {
  provisioning?: ProvisionResult;
  floor?: FloorResult;
  steady?: SteadyStateResult;
  emptyUp?: EmptyUpResult;
  profile?: OperationProfile[];
  throughput?: ThroughputRun[];
  fleet?: FleetResult;
  portal?: PortalRow[];
  ingest?: WebhookIngestResult;
  renewal?: RenewalDayResult;
  notRun: NotRun;
}

const STEPS = 8;

/** Every issue-17 measurement, in order; what failed is in `notRun`. */
async function fullRun(bench: Bench, opts: BenchOptions): Promise<FullRun> {
  const out: FullRun = { notRun: [] };
  const step = (n: number, what: string) =>
    bench.log(`== step ${n}/${STEPS}: ${what} (load ${load1().toFixed(2)})`);

  step(1, "one tenant: fresh applies, no-op ups and previews, the floors");
  const latency = Array.from({ length: opts.runs }, (_, i) => `lat-${i + 1}`);
  const [first = "lat-1"] = latency;
  const started = await attempt(bench, out.notRun, "latency", () => bench.operations(1));
  if (started) {
    const { ops, warmUpMs } = started;
    bench.log(`pool of 1 started and warmed in ${(warmUpMs / 1000).toFixed(1)} s`);
    try {
      out.provisioning = await attempt(bench, out.notRun, "latency", () =>
        measureProvisioning(bench, ops, latency),
      );
      if (out.provisioning) {
        out.steady = await attempt(bench, out.notRun, "steady", () =>
          measureSteadyState(bench, ops, first, opts.runs),
        );
        out.floor = await attempt(bench, out.notRun, "floor", () =>
          measureFloor(bench, bench.settings(1), first, {
            oneConnection: "floor-one",
            connectionPerCommand: "floor-each",
          }),
        );
        bench.log("destroying the latency tenants (not timed)");
        await attempt(bench, out.notRun, "latency clean-up", async () =>
          bench.expectSucceeded(
            await Promise.all(latency.map((t) => ops.pool.destroy(t))),
            "destroying the latency tenants",
          ),
        );
      } else {
        out.notRun.push({ scenario: "steady", reason: "needs the latency tenant" });
        out.notRun.push({ scenario: "floor", reason: "needs the latency tenant" });
      }
    } finally {
      await ops.close();
    }
  }
  out.emptyUp = await attempt(bench, out.notRun, "empty-up", () => measureEmptyUp(bench, opts.runs));
  await bench.resetHost();

  step(2, "where an operation's time goes (diagnostic)");
  out.profile = await attempt(bench, out.notRun, "profile", () => profileOperations(bench, "profile-1"));
  await bench.resetHost();

  step(3, `throughput: ${opts.tenants} tenants, pools ${opts.pools.join(", ")}, no host latency`);
  const throughput: ThroughputRun[] = [];
  const plain = await attempt(bench, out.notRun, "throughput", () =>
    measureThroughput(bench, opts.pools, opts.tenants, load1, { latencyMs: 0 }),
  );
  throughput.push(...(plain ?? []));
  step(4, `throughput: the same with ${opts.latencyMs} ms host latency per command`);
  if (opts.latencyMs > 0) {
    const slow = await attempt(bench, out.notRun, "throughput", () =>
      measureThroughput(bench, opts.pools, opts.tenants, load1, { latencyMs: opts.latencyMs }),
    );
    throughput.push(...(slow ?? []));
  }
  out.throughput = throughput;
  await bench.setLatency(0);
  await bench.resetHost();

  step(5, `the fleet: checkout storm of ${opts.storm}, ${opts.fleet} tenants, rollout, drift --all`);
  out.fleet = await attempt(bench, out.notRun, "fleet", () =>
    measureFleet(bench, { tenants: opts.fleet, storm: opts.storm, poolSize: 4, canary: 1, batch: 20 }),
  );
  await bench.resetHost();

  step(6, `the portal with ${opts.portalTenants} tenants`);
  out.portal = await attempt(bench, out.notRun, "portal", async () => {
    const rows = await measurePortal(
      { tenants: opts.portalTenants, requests: opts.portalRequests, concurrency: 8 },
      (line) => bench.log(line),
    );
    const failed = rows.filter((r) => r.errors > 0);
    if (failed.length > 0)
      throw new BenchFailure(
        `portal pages answered errors: ${failed.map((r) => `${r.scenario} ${r.errors} (statuses ${JSON.stringify(r.errorStatuses)})`).join(", ")}`,
      );
    return rows;
  });

  step(7, `webhook ingest: ${opts.ingestEvents} signed events`);
  out.ingest = await attempt(bench, out.notRun, "webhook-ingest", async () => {
    const result = await measureWebhookIngest(
      { events: opts.ingestEvents, concurrency: 16, customers: opts.ingestCustomers },
      (line) => bench.log(line),
    );
    if (result.statuses["200"] !== opts.ingestEvents)
      throw new BenchFailure(
        `webhook ingest: not every event was acknowledged: ${JSON.stringify(result.statuses)}`,
      );
    return result;
  });
  step(
    8,
    `renewal day: ${opts.renewalSubscriptions} subscriptions renewing over ${opts.renewalWindowSeconds} s`,
  );
  out.renewal = await attempt(bench, out.notRun, "renewal-day", () =>
    measureRenewalDay(
      {
        subscriptions: opts.renewalSubscriptions,
        windowSeconds: opts.renewalWindowSeconds,
        stripeRate: STRIPE_TEST_MODE_RATE,
        timeoutSeconds: STRIPE_WEBHOOK_TIMEOUT_SECONDS,
      },
      (line) => bench.log(line),
    ),
  );
  return out;
}

async function main(argv: string[]): Promise<number> {
  // Issue 6's webhook ingest benchmark needs no Dokku host and takes its own options.
  if (argv[0] === "renewal-day") return (await import("./renewalDay.ts")).renewalDayCli(argv.slice(1));
  if (argv[0] === "webhook-ingest")
    return (await import("./webhookIngest.ts")).webhookIngestCli(argv.slice(1));
  // Issue 12's time to first value runs the whole local platform with its own options.
  if (argv[0] === "sign-in") return (await import("./signIn.ts")).signInCli(argv.slice(1));
  // Issue 7's portal benchmark is a script of its own (it forks its load process from itself).
  if (argv[0] === "portal")
    return (
      spawnSync(process.execPath, [join(import.meta.dirname, "portal.ts"), ...argv.slice(1)], {
        stdio: "inherit",
      }).status ?? 1
    );
  let opts: BenchOptions;
  try {
    opts = parseBenchOptions(argv, ROOT);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`${error.message}\n\n${USAGE}`);
    return 2;
  }
  if (opts.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  prepareEnvironment();
  const started = now();
  const machine = machineInfo();
  const loadStart = load1();
  const loads: number[] = [loadStart];
  const sampler = setInterval(() => loads.push(load1()), 5_000);
  sampler.unref();

  const host = await startDokkuHost();
  // Tenant leases and shared stack config live in the platform database, as in production.
  const database = await testDatabase();
  const dataDir = mkdtempSync(join(tmpdir(), "mindroom-bench-"));
  const cleanUp = async () => {
    await host.stop();
    await database.close();
    rmSync(dataDir, { recursive: true, force: true });
  };
  // Ctrl-C: the host's sshd and the data folder must not outlive the run (workers end with their pool's IPC channel).
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.once(signal, () => {
      process.stderr.write(`\n${signal}: stopping the Dokku test host\n`);
      void cleanUp().finally(() => process.exit(130));
    });
  }
  const bench = new Bench(host, dataDir, database.url);
  bench.log(`Dokku test host on ${host.url}; data in ${dataDir}; ${machine.uptimeStart}`);
  try {
    if (opts.scenarios.length > 0) {
      for (const scenario of opts.scenarios) {
        await runFocused(bench, scenario, opts);
        await bench.resetHost();
      }
      bench.log(
        `done in ${((now() - started) / 60_000).toFixed(1)} min; ${uptime()}; load mean ${mean(loads).toFixed(2)}, max ${Math.max(...loads).toFixed(2)}`,
      );
      return 0;
    }
    const figures = await fullRun(bench, opts);
    machine.uptimeEnd = uptime();
    const results: BenchResults = {
      ...figures,
      machine,
      command: commandLine(argv),
      options: {
        quick: opts.quick,
        runs: opts.runs,
        tenants: opts.tenants,
        pools: opts.pools,
        latencyMs: opts.latencyMs,
        fleet: opts.fleet,
        storm: opts.storm,
        portalTenants: opts.portalTenants,
      },
      load: {
        start: loadStart,
        end: load1(),
        mean: mean(loads),
        max: Math.max(...loads),
        samples: loads.length,
      },
      durationMs: now() - started,
    };
    process.stdout.write(`\n${consoleTable(results)}\n\n`);
    if (opts.out) {
      writeMarkdown(opts.out, results);
      bench.log(`results written to ${opts.out}`);
    }
    const failed = figures.notRun.filter((n) => n.reason.startsWith("failed"));
    bench.log(
      `done in ${((now() - started) / 60_000).toFixed(1)} min; ${machine.uptimeEnd}${failed.length > 0 ? `; FAILED: ${failed.map((f) => f.scenario).join(", ")}` : ""}`,
    );
    return failed.length > 0 ? 1 : 0;
  } catch (error) {
    const e = error as Error;
    process.stderr.write(
      `\nbenchmark failed: ${e instanceof BenchFailure ? e.message : (e.stack ?? e.message)}\n`,
    );
    return 1;
  } finally {
    clearInterval(sampler);
    await cleanUp();
  }
}

process.exit(await main(process.argv.slice(2)));
