/**
 * `npm run bench`'s command line: the usage text, the scenarios, and the
 * options parsed once into typed values (the full run's counts, or `--quick`'s
 * small ones for a smoke test of every scenario).
 */
import { resolve } from "node:path";
import { parseArgs } from "node:util";

export const USAGE = `Usage: npm run bench [-- options]   (or: node bench/main.ts [options] [scenario...])

Benchmarks the platform against its own Dokku test host (needs root, openssh-server and
the toolchain: ./platform setup; Node 24 first on PATH: source toolchain/env.sh).
With no scenario named it runs every issue-17 measurement below in order (about 30 minutes on
a quiet 2-core machine; --quick: a few minutes, small counts, a smoke test) and rewrites the
generated block of docs/benchmarks.md. Progress goes to stderr, the table to stdout.

The full run, in order:
  latency       fresh-tenant applies (--runs of them); CPU per fresh tenant, control plane and host apart
  steady        no-op ups and previews of an unchanged tenant
  floor         the tenant's create scripts over one SSH connection
  empty-up      the no-op floor: up of an empty Pulumi program, same CLI/backend, pack on and off
  profile       pulumi CLI calls per operation (diagnostic)
  throughput    --tenants tenants per pool size in --pools, without and with --latency
  fleet         the pipeline (local Stripe → webhook service → worker pool of 4): a checkout
                storm of --storm customers at once, the rest of --fleet tenants (untimed), a
                rollout of a new image to all of them, then drift --all over all of them
  portal        dashboard and operator tenants table with --portal-tenants tenants, p95
  webhook-ingest  signed Stripe events from a second process, events/s and p99
  renewal-day   10,000 settled tenants renewing within --renewal-window (two events each): acks vs
                Stripe's timeout, reconciles caused, the sweep's listing under the rate limit

Scenarios run alone (their figures on stderr, the results file left alone):
  latency, steady, floor, empty-up, profile, throughput (both passes), drift (--tenants on the
  largest pool, then drift --all over them)
  webhook-ingest, portal, sign-in, renewal-day: alone, with their own options (npm run bench -- <name> --help)

Options:
  --quick            small counts everywhere (runs 1, 4 tenants, fleet 8, storm 4, portal 1,000
                     tenants, 1,000 events, 200 renewals over 20 s, latency 200 ms); writes nothing unless --out is given
  --runs N           repetitions of the latency measurements (default 3)
  --tenants N        tenants per pool size for throughput (default 20)
  --pools LIST       pool sizes for throughput, comma-separated (default 1,4)
  --latency MS       per-command latency of the test host for the second throughput pass, like
                     a real host's (0.5 to 5 s; default 500; 0 skips that pass)
  --fleet N          tenants in the fleet for the rollout and drift --all (default 100)
  --storm N          checkouts at once in the checkout storm (default 20)
  --portal-tenants N tenants in the portal's database (default 10000)
  --renewal-window S seconds the 10,000 renewals arrive within (default 240: 2.5 times the issue's
                     rate of 10,000 in 10 minutes, a stricter test that keeps the whole run near
                     30 minutes; 600 is the issue's own)
  --out FILE         where to write the results (default docs/benchmarks.md)
  --no-write         print only, leave the results file alone
  --help             this text

Exit codes: 0 done, 1 an operation or check failed (the results name what did not run), 2 usage error.
`;

export class UsageError extends Error {
  override readonly name = "UsageError";
}

export const FOCUSED_SCENARIOS = [
  "latency",
  "steady",
  "floor",
  "empty-up",
  "profile",
  "throughput",
  "drift",
] as const;
export type FocusedName = (typeof FOCUSED_SCENARIOS)[number];

export interface BenchOptions {
  readonly scenarios: readonly FocusedName[];
  readonly help: boolean;
  readonly quick: boolean;
  readonly runs: number;
  readonly tenants: number;
  readonly pools: readonly number[];
  /** Per-command host latency of the second throughput pass (0: no second pass). */
  readonly latencyMs: number;
  readonly fleet: number;
  readonly storm: number;
  readonly portalTenants: number;
  /** Requests per portal page, and webhook events (smaller with --quick). */
  readonly portalRequests: number;
  readonly ingestEvents: number;
  readonly ingestCustomers: number;
  /** Renewal day: subscriptions renewing, and the window they renew in (smaller with --quick). */
  readonly renewalSubscriptions: number;
  readonly renewalWindowSeconds: number;
  /** Where the results go; undefined: nowhere (--no-write, or --quick without --out). */
  readonly out: string | undefined;
}

function positive(name: string, raw: string): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`${name} must be a positive integer, got ${raw}`);
  return n;
}

function nonNegative(name: string, raw: string): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0)
    throw new UsageError(`${name} must be 0 or a positive integer, got ${raw}`);
  return n;
}

const FULL = {
  runs: "3",
  tenants: "20",
  pools: "1,4",
  latency: "500",
  fleet: "100",
  storm: "20",
  "portal-tenants": "10000",
  portalRequests: 300,
  ingestEvents: 10_000,
  ingestCustomers: 2000,
  renewalSubscriptions: 10_000,
  // Denser than the 600 s (so stricter): the whole run must stay within about 35 minutes.
  "renewal-window": "240",
};
const QUICK = {
  runs: "1",
  tenants: "4",
  pools: "1,4",
  latency: "200",
  fleet: "8",
  storm: "4",
  "portal-tenants": "1000",
  portalRequests: 50,
  ingestEvents: 1000,
  ingestCustomers: 200,
  renewalSubscriptions: 200,
  "renewal-window": "20",
};

/** Parses the command line; `root` is the repository (results paths are relative to it). */
export function parseBenchOptions(argv: readonly string[], root: string): BenchOptions {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (error) {
    // node:util's own errors (unknown option, missing value) are usage errors too.
    throw error instanceof UsageError ? error : new UsageError((error as Error).message);
  }
  const { values, positionals } = parsed;
  const unknown = positionals.filter((p) => !(FOCUSED_SCENARIOS as readonly string[]).includes(p));
  if (unknown.length > 0) throw new UsageError(`unknown scenario ${unknown.join(", ")}`);
  const base = values.quick ? QUICK : FULL;
  const pick = (name: keyof typeof FULL & keyof typeof values) =>
    (values[name] as string | undefined) ?? base[name];
  const fleet = positive("--fleet", String(pick("fleet")));
  const storm = positive("--storm", String(pick("storm")));
  if (storm > fleet) throw new UsageError(`--storm (${storm}) cannot be larger than --fleet (${fleet})`);
  const pools = String(pick("pools"))
    .split(",")
    .map((p) => positive("--pools", p.trim()));
  const out = values["no-write"]
    ? undefined
    : values.out !== undefined
      ? resolve(root, values.out)
      : values.quick
        ? undefined
        : resolve(root, "docs/benchmarks.md");
  return {
    scenarios: positionals as FocusedName[],
    help: values.help ?? false,
    quick: values.quick ?? false,
    runs: positive("--runs", String(pick("runs"))),
    tenants: positive("--tenants", String(pick("tenants"))),
    pools,
    latencyMs: nonNegative("--latency", String(pick("latency"))),
    fleet,
    storm,
    portalTenants: positive("--portal-tenants", String(pick("portal-tenants"))),
    portalRequests: base.portalRequests,
    ingestEvents: base.ingestEvents,
    ingestCustomers: base.ingestCustomers,
    renewalSubscriptions: base.renewalSubscriptions,
    renewalWindowSeconds: positive("--renewal-window", String(pick("renewal-window"))),
    out,
  };
}

function parse(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    options: {
      quick: { type: "boolean" },
      runs: { type: "string" },
      tenants: { type: "string" },
      pools: { type: "string" },
      latency: { type: "string" },
      fleet: { type: "string" },
      storm: { type: "string" },
      "portal-tenants": { type: "string" },
      "renewal-window": { type: "string" },
      out: { type: "string" },
      "no-write": { type: "boolean" },
      help: { type: "boolean" },
    },
    strict: true,
    allowPositionals: true,
  });
}
