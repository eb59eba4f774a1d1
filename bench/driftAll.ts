/**
 * `mindroom-ops drift --all` over a fleet (bench/fleet.ts, or the tenants a
 * throughput run just provisioned), i.e. the real operator binary (its own
 * process, its own pool of the default size, every stack, the read-only host
 * probes). Nothing drifted, so it must exit 0 and name every tenant.
 */
import { execFile } from "node:child_process";
import { resolve } from "node:path";
import type { OperationResult } from "../automation/operationResult.ts";
import { defaultPoolSize } from "../automation/settings.ts";
import { type Bench, BenchFailure, now } from "./harness.ts";
import { median } from "./stats.ts";

const BIN = resolve(import.meta.dirname, "..", "bin", "mindroom-ops");

export interface DriftAllResult {
  readonly tenants: number;
  readonly poolSize: number;
  readonly wallMs: number;
  /** Median of the drift operations' own durations. */
  readonly medianTenantMs: number;
  readonly command: string;
}

export async function measureDriftAll(
  bench: Bench,
  tenants: readonly string[],
  /** The CLI's environment: the stacks' data folder, database and host (default: the bench's own). */
  environment: Record<string, string> = bench.environment(),
): Promise<DriftAllResult> {
  // The CLI's own pool: the default size for this machine (nothing here sets MINDROOM_AUTOMATION_WORKERS).
  const poolSize = defaultPoolSize();
  bench.log(
    `drift --all: mindroom-ops over ${tenants.length} tenants (pool of ${poolSize}, the CLI's default here)`,
  );
  const start = now();
  const { code, stdout, stderr } = await new Promise<{ code: number; stdout: string; stderr: string }>(
    (done) => {
      const child = execFile(
        BIN,
        ["drift", "--all", "--json"],
        { env: { ...process.env, ...environment }, maxBuffer: 64 << 20 },
        (error, out, err) =>
          done({
            code: error ? Number((error as { code?: number }).code ?? 1) : 0,
            stdout: out,
            stderr: err,
          }),
      );
      child.stdin?.end();
    },
  );
  const wallMs = now() - start;
  if (code !== 0)
    throw new BenchFailure(
      `mindroom-ops drift --all exited ${code}:\n${stderr.slice(-2000)}${stdout.slice(-2000)}`,
    );
  const parsed = JSON.parse(stdout) as OperationResult | OperationResult[];
  const results = Array.isArray(parsed) ? parsed : [parsed];
  bench.expectSucceeded(results, "drift --all");
  const seen = new Set(results.map((r) => r.tenant));
  const missing = tenants.filter((t) => !seen.has(t));
  if (missing.length > 0) throw new BenchFailure(`drift --all did not check ${missing.join(", ")}`);
  const drifted = results.filter((r) => (r.drift?.length ?? 0) > 0);
  if (drifted.length > 0)
    throw new BenchFailure(`drift --all found drift nobody made: ${drifted.map((r) => r.tenant).join(", ")}`);
  bench.log(`  drift --all: ${(wallMs / 1000).toFixed(1)} s`);
  // How the CLI split the fleet: found clean by the batched pass, or checked one tenant at a time.
  const split = /^drift: \d+ of \d+ tenants found clean in one pass.*$/m.exec(stderr)?.[0];
  if (split) bench.log(`  ${split}`);
  return {
    tenants: results.length,
    poolSize,
    wallMs,
    medianTenantMs: median(results.map((r) => r.durationMs)),
    command: "bin/mindroom-ops drift --all --json",
  };
}
