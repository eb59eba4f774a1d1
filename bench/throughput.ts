/**
 * Measurement 4: many new tenants at once (a launch, a migration, a restore),
 * through a fresh `Operations` per pool size, as `MINDROOM_AUTOMATION_WORKERS`
 * would configure it. All tenants are submitted at once; the pool bounds how
 * many run. Memory is what the pool itself samples: the peak resident set of
 * each worker's process tree (the worker, its pulumi CLI, language host and
 * provider plugins). The tenants are destroyed afterwards, timed separately.
 */
import type { Operations } from "../automation/operations.ts";
import { cpuWindow } from "./cpu.ts";
import { type Bench, hostBusyMs, now } from "./harness.ts";
import { mean } from "./stats.ts";

export interface ThroughputRun {
  readonly poolSize: number;
  /** Per-command latency the test host added while the tenants were provisioned (0: none). */
  readonly latencyMs: number;
  readonly tenants: number;
  readonly warmUpMs: number;
  readonly wallMs: number;
  readonly destroyMs: number;
  /** Peak RSS of each worker's process tree, in bytes (one entry per worker pid). */
  readonly peakRss: readonly number[];
  readonly dokkuCommands: number;
  /** Wall time with at least one Dokku command in flight on the host. */
  readonly hostBusyMs: number;
  /** CPU the automation layer and the test host used for the whole provisioning; the machine's busy share meanwhile. */
  readonly cpuAutomationMs: number;
  readonly cpuHostMs: number;
  readonly machineBusy: number;
  /** System load (1 min) at the start and the end of the provisioning. */
  readonly load: readonly [number, number];
}

/** Runs after the tenants of the largest pool are up, before they are destroyed (drift --all uses them). */
export type WhileUp = (ops: Operations, tenants: readonly string[]) => Promise<void>;

/**
 * `latencyMs`: every Dokku command waits that long while the tenants are
 * provisioned (a distant host); their destroy, timed apart, runs without it.
 */
export async function measureThroughput(
  bench: Bench,
  poolSizes: readonly number[],
  tenants: number,
  loadAvg: () => number,
  options: { readonly latencyMs: number; readonly whileUp?: WhileUp },
): Promise<ThroughputRun[]> {
  const { latencyMs, whileUp } = options;
  const runs: ThroughputRun[] = [];
  const largest = Math.max(...poolSizes);
  for (const poolSize of poolSizes) {
    bench.log(`throughput: starting a pool of ${poolSize}`);
    const { ops, warmUpMs } = await bench.operations(poolSize);
    try {
      // Other names with latency: a run without it may have left its stacks (a failed destroy).
      const slugs = Array.from(
        { length: tenants },
        (_, i) => `${latencyMs > 0 ? "tl" : "tp"}${poolSize}-${String(i + 1).padStart(2, "0")}`,
      );
      await bench.setLatency(latencyMs);
      bench.log(
        `throughput: ${tenants} tenants with a pool of ${poolSize}${latencyMs > 0 ? `, host latency ${latencyMs} ms per command` : ""}`,
      );
      const loadStart = loadAvg();
      const cpu = cpuWindow();
      const start = now();
      let done = 0;
      const results = await Promise.all(
        slugs.map(async (slug) => {
          const result = await ops.pool.apply(bench.spec(slug), ops.secrets());
          done++;
          bench.log(
            `  pool ${poolSize}: ${done}/${tenants} ${result.status === "succeeded" ? "provisioned" : `FAILED (${slug})`} after ${((now() - start) / 1000).toFixed(0)} s`,
          );
          return result;
        }),
      );
      const end = now();
      const used = cpu();
      const loadEnd = loadAvg();
      bench.expectSucceeded(results, `provisioning ${tenants} tenants with a pool of ${poolSize}`);
      // Copied now: the pool keeps sampling during later operations (drift, destroy).
      const peakRss = [...ops.pool.peakRss.values()];
      const host = await bench.hostCommands(start, end);
      await bench.setLatency(0);
      if (whileUp && poolSize === largest) await whileUp(ops, slugs);

      bench.log(`throughput: destroying the ${tenants} tenants (timed separately)`);
      const destroyStart = now();
      const destroyed = await Promise.all(slugs.map((slug) => ops.pool.destroy(slug)));
      const destroyMs = now() - destroyStart;
      bench.expectSucceeded(destroyed, `destroying ${tenants} tenants with a pool of ${poolSize}`);
      const run: ThroughputRun = {
        poolSize,
        latencyMs,
        tenants,
        warmUpMs,
        wallMs: end - start,
        destroyMs,
        peakRss,
        dokkuCommands: host.length,
        hostBusyMs: hostBusyMs(host),
        cpuAutomationMs: used.automationMs,
        cpuHostMs: used.hostMs,
        machineBusy: used.machineBusy,
        load: [loadStart, loadEnd],
      };
      bench.log(
        `  pool ${poolSize}: ${(run.wallMs / 1000).toFixed(1)} s for ${tenants} tenants, peak RSS per worker max ${Math.round(Math.max(...peakRss) / 2 ** 20)} MB, mean ${Math.round(mean(peakRss) / 2 ** 20)} MB; destroy ${(destroyMs / 1000).toFixed(1)} s`,
      );
      runs.push(run);
    } finally {
      await ops.close();
    }
    await bench.resetHost();
  }
  return runs;
}
