/**
 * Focused runs (`node bench/main.ts steady`): one measurement at a time while
 * working on the automation layer, its figures on stderr only. The full run
 * (no scenario named) is the one whose figures go to docs/benchmarks.md.
 */
import { profileOperations, summariseCalls } from "./cliCalls.ts";
import { measureDriftAll } from "./driftAll.ts";
import { measureEmptyUp } from "./emptyUp.ts";
import { measureFloor } from "./floor.ts";
import type { Bench } from "./harness.ts";
import { load1 } from "./machine.ts";
import type { FocusedName } from "./options.ts";
import { measureProvisioning } from "./provision.ts";
import { mean } from "./stats.ts";
import { measureSteadyState } from "./steadyState.ts";
import { speedup } from "./targets.ts";
import { measureThroughput, type ThroughputRun } from "./throughput.ts";

const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

export async function runFocused(
  bench: Bench,
  scenario: FocusedName,
  opts: { runs: number; tenants: number; pools: readonly number[]; latencyMs: number },
): Promise<void> {
  bench.log(`scenario ${scenario}: load ${load1().toFixed(2)}`);
  switch (scenario) {
    case "latency":
    case "steady":
    case "floor": {
      const { ops } = await bench.operations(1);
      const tenants =
        scenario === "latency" ? Array.from({ length: opts.runs }, (_, i) => `lat-${i + 1}`) : ["lat-1"];
      try {
        const p = await measureProvisioning(bench, ops, tenants);
        if (scenario === "latency") {
          bench.log(
            `RESULT apply median ${s(p.medianTotalMs)} (runs ${p.runs.map((r) => s(r.totalMs)).join(", ")}), overhead ${s(p.medianOverheadMs)}, CPU automation/host per apply ${s(mean(p.runs.map((r) => r.cpuAutomationMs)))} / ${s(mean(p.runs.map((r) => r.cpuHostMs)))}`,
          );
        }
        if (scenario !== "floor") {
          const st = await measureSteadyState(bench, ops, "lat-1", opts.runs);
          bench.log(
            `RESULT no-op up median ${s(st.noopUp.medianMs)} (runs ${st.noopUp.runsMs.map(s).join(", ")}); with drift probes ${s(st.probedUp.medianMs)}; preview median ${s(st.preview.medianMs)} (runs ${st.preview.runsMs.map(s).join(", ")})`,
          );
        } else {
          const f = await measureFloor(bench, bench.settings(1), "lat-1", {
            oneConnection: "floor-one",
            connectionPerCommand: "floor-each",
          });
          bench.log(
            `RESULT floor ${s(f.oneConnection.ms)}, one connection per script ${s(f.connectionPerCommand.ms)}`,
          );
        }
        bench.expectSucceeded(await Promise.all(tenants.map((t) => ops.pool.destroy(t))), "destroy");
      } finally {
        await ops.close();
      }
      return;
    }
    case "empty-up": {
      const e = await measureEmptyUp(bench, opts.runs);
      bench.log(
        `RESULT empty program's up: ${s(e.medianWithPackMs)} with the policy pack, ${s(e.medianWithoutPackMs)} without`,
      );
      return;
    }
    case "profile": {
      for (const p of await profileOperations(bench, "profile-1")) {
        bench.log(
          `RESULT ${p.operation}: ${s(p.wallMs)}, ${p.calls.length} pulumi processes: ${summariseCalls(p.calls)}; CPU ${s(p.cpuAutomationMs)} / host ${s(p.cpuHostMs)}`,
        );
      }
      return;
    }
    case "throughput":
    case "drift": {
      const pools = scenario === "drift" ? [Math.max(...opts.pools)] : opts.pools;
      // Throughput: without host latency, then with it (when asked); drift: without.
      const latencies = scenario === "throughput" && opts.latencyMs > 0 ? [0, opts.latencyMs] : [0];
      const runs: ThroughputRun[] = [];
      for (const latencyMs of latencies)
        runs.push(
          ...(await measureThroughput(bench, pools, opts.tenants, load1, {
            latencyMs,
            whileUp: async (_ops, tenants) => {
              if (scenario !== "drift") return;
              const d = await measureDriftAll(bench, tenants);
              bench.log(
                `RESULT drift --all ${d.tenants} tenants: ${s(d.wallMs)}, median drift ${s(d.medianTenantMs)}`,
              );
            },
          })),
        );
      for (const r of runs) {
        bench.log(
          `RESULT pool ${r.poolSize}, latency ${r.latencyMs} ms: ${s(r.wallMs)} for ${r.tenants}; CPU/tenant automation ${s(r.cpuAutomationMs / r.tenants)} host ${s(r.cpuHostMs / r.tenants)}; machine busy ${Math.round(r.machineBusy * 100)} %; load ${r.load.map((l) => l.toFixed(1)).join(" → ")}`,
        );
      }
      for (const latencyMs of latencies) {
        const pass = speedup(runs, latencyMs);
        if (pass)
          bench.log(`RESULT speedup pool 4 vs 1, host latency ${latencyMs} ms: ${pass.speedup.toFixed(2)}×`);
      }
      return;
    }
  }
}
