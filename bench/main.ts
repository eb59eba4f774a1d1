/**
 * `npm run bench`: the automation layer's benchmark (issue 4). Starts its own
 * Dokku test host and a private data folder, runs the measurements in order,
 * prints the figures and writes them to docs/benchmarks.md. Exits 1 if any
 * operation fails (the figures would be meaningless), 2 on a usage error.
 *
 *   1. provisioning latency of a new tenant, remote-command time vs overhead
 *   2. the floor: the same scripts over one SSH connection
 *   3. no-op up and preview of an unchanged tenant
 *   (diagnostic) pulumi CLI calls per operation
 *   4. throughput of N tenants per pool size, peak memory per worker
 *   5. drift --all over the N tenants of the largest pool
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { defaultPoolSize } from "../automation/settings.ts";
import { startDokkuHost } from "../dokku-double/host.ts";
import { testDatabase } from "../testing/database.ts";
import { profileOperations } from "./cliCalls.ts";
import { type DriftAllResult, measureDriftAll } from "./driftAll.ts";
import { measureFloor } from "./floor.ts";
import { type FocusedScenario, runFocused } from "./focused.ts";
import { Bench, BenchFailure, now } from "./harness.ts";
import { load1, machineInfo, prepareEnvironment, uptime } from "./machine.ts";
import { measureProvisioning } from "./provision.ts";
import { type BenchResults, consoleTable, writeMarkdown } from "./report.ts";
import { mean } from "./stats.ts";
import { measureSteadyState } from "./steadyState.ts";
import { measureThroughput } from "./throughput.ts";

const USAGE = `Usage: npm run bench [-- options]   (or: node bench/main.ts [options] [scenario...])

Benchmarks the automation layer against its own Dokku test host (needs root,
openssh-server and the toolchain: ./platform setup; Node 24 first on PATH:
source toolchain/env.sh). Takes about 20 minutes on a quiet 2-core machine.
Progress goes to stderr, the table to stdout, the figures to docs/benchmarks.md.

Scenarios (default: all, and the results file is rewritten; naming some runs
only those, prints their figures on stderr and leaves the results file alone):
  latency      fresh-tenant applies (--runs of them), then no-op ups and previews
  steady       one apply (untimed), then --runs no-op ups and previews
  floor        one apply (untimed), then the floor scripts
  profile      pulumi CLI calls per operation
  throughput   --tenants tenants per pool size in --pools
  drift        --tenants tenants on the largest pool, then drift --all
  webhook-ingest  alone, with its own options: the webhook service under signed-event
               load from a second process (npm run bench -- webhook-ingest --help)
  portal       alone, with its own options: the portal's dashboard and operator tenants
               table with 1,000 tenants, load from a second process (npm run bench -- portal --help)
  sign-in      alone, with its own options: payment → "you can sign in" (single sign-on and a
               Matrix account) over 10 customers, p50/p95 (npm run bench -- sign-in --help)

Options:
  --runs N       repetitions of the latency measurements (default 3)
  --tenants N    tenants for throughput and drift --all (default 20)
  --pools LIST   pool sizes for throughput, comma-separated (default 1,2,4)
  --latency MS   per-command latency of the test host for throughput and drift, like a
                 real host's (0.5 to 5 s: 500 to 5000; default 0, none)
  --out FILE     where to write the results (default docs/benchmarks.md)
  --no-write     print only, leave the results file alone
  --help         this text

Exit codes: 0 done, 1 an operation or check failed, 2 usage error.
`;

function positive(name: string, raw: string): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`${name} must be a positive integer, got ${raw}`);
  return n;
}

class UsageError extends Error {
  override readonly name = "UsageError";
}

const SCENARIOS = [
  "latency",
  "steady",
  "floor",
  "profile",
  "throughput",
  "drift",
] as const satisfies readonly FocusedScenario[];
type Scenario = (typeof SCENARIOS)[number];

function options(argv: string[]) {
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      runs: { type: "string", default: "3" },
      tenants: { type: "string", default: "20" },
      pools: { type: "string", default: "1,2,4" },
      latency: { type: "string", default: "0" },
      out: { type: "string", default: "docs/benchmarks.md" },
      "no-write": { type: "boolean", default: false },
      help: { type: "boolean", default: false },
    },
    strict: true,
    allowPositionals: true,
  });
  const unknown = positionals.filter((p) => !(SCENARIOS as readonly string[]).includes(p));
  if (unknown.length > 0) throw new UsageError(`unknown scenario ${unknown.join(", ")}`);
  return {
    scenarios: positionals as Scenario[],
    help: values.help,
    runs: positive("--runs", values.runs),
    tenants: positive("--tenants", values.tenants),
    pools: values.pools.split(",").map((p) => positive("--pools", p.trim())),
    latencyMs: values.latency === "0" ? 0 : positive("--latency", values.latency),
    out: resolve(import.meta.dirname, "..", values.out),
    write: !values["no-write"],
  };
}

/** The command as the operator typed it, for the results file. */
function commandLine(argv: readonly string[]): string {
  const args = argv.join(" ");
  if (process.env.npm_lifecycle_event === "bench") return `npm run bench${args ? ` -- ${args}` : ""}`;
  return `node bench/main.ts${args ? ` ${args}` : ""}`;
}

async function main(argv: string[]): Promise<number> {
  // Issue 6's webhook ingest benchmark needs no Dokku host and takes its own options.
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
  let opts: ReturnType<typeof options>;
  try {
    opts = options(argv);
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (opts.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  prepareEnvironment();
  const started = now();
  const machine = machineInfo();
  const loads: number[] = [load1()];
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
    const latency = Array.from({ length: opts.runs }, (_, i) => `lat-${i + 1}`);
    const [first = "lat-1"] = latency;
    const { ops, warmUpMs } = await bench.operations(1);
    bench.log(`pool of 1 started and warmed in ${(warmUpMs / 1000).toFixed(1)} s`);
    let provisioning: BenchResults["provisioning"];
    let steady: BenchResults["steady"];
    let floor: BenchResults["floor"];
    try {
      provisioning = await measureProvisioning(bench, ops, latency);
      steady = await measureSteadyState(bench, ops, first, opts.runs);
      floor = await measureFloor(bench, bench.settings(1), first, {
        oneConnection: "floor-one",
        connectionPerCommand: "floor-each",
      });
      bench.log("destroying the latency tenants (not timed)");
      const destroyed = await Promise.all(latency.map((t) => ops.pool.destroy(t)));
      bench.expectSucceeded(destroyed, "destroying the latency tenants");
    } finally {
      await ops.close();
    }
    await bench.resetHost();

    const profile = await profileOperations(bench, "profile-1");

    let drift: DriftAllResult | undefined;
    await bench.setLatency(opts.latencyMs);
    const throughput = await measureThroughput(
      bench,
      opts.pools,
      opts.tenants,
      load1,
      async (_ops, tenants) => {
        drift = await measureDriftAll(bench, tenants, defaultPoolSize());
      },
    );
    if (!drift) throw new BenchFailure("drift --all did not run");

    machine.uptimeEnd = uptime();
    const results: BenchResults = {
      machine,
      command: commandLine(argv),
      options: { runs: opts.runs, tenants: opts.tenants, pools: opts.pools, latencyMs: opts.latencyMs },
      load: { mean: mean(loads), max: Math.max(...loads) },
      durationMs: now() - started,
      provisioning,
      floor,
      steady,
      throughput,
      drift,
      profile,
    };
    process.stdout.write(`\n${consoleTable(results)}\n\n`);
    if (opts.write) {
      writeMarkdown(opts.out, results);
      bench.log(`results written to ${opts.out}`);
    }
    bench.log(`done in ${((now() - started) / 60_000).toFixed(1)} min; ${machine.uptimeEnd}`);
    return 0;
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
