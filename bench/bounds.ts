/**
 * For each issue-17 target a run missed, what bounds it, in CPU-seconds or
 * round trips, from the same run's own figures (the profile's pulumi
 * processes, the pool-of-1 CPU, the floors). Pure: the lines go into the
 * generated block, so the hand-written analysis starts from them.
 */
import type { OperationProfile } from "./cliCalls.ts";
import { median, ratio, seconds } from "./stats.ts";
import { type Issue17Figures, issue17Targets, PORTAL_PAGES, speedup } from "./targets.ts";

export interface BoundsInput extends Issue17Figures {
  readonly profile?: readonly OperationProfile[];
  readonly cores: number;
}

const cpu = (ms: number) => `${(ms / 1000).toFixed(2)} CPU-s`;
const calls = (p: OperationProfile) => `${p.calls.length} pulumi process${p.calls.length === 1 ? "" : "es"}`;

export function missedBounds(r: BoundsInput): string[] {
  const missed = new Set(
    issue17Targets(r)
      .filter((t) => t.verdict === "MISSED")
      .map((t) => t.target),
  );
  const has = (prefix: string) => [...missed].some((t) => t.startsWith(prefix));
  const profile = (operation: string) => r.profile?.find((p) => p.operation === operation);
  const lines: string[] = [];

  const p = r.provisioning;
  if (has("Fresh tenant") && p && r.floor) {
    const apply = profile("apply (fresh tenant)");
    const split = {
      before: median(p.runs.map((x) => x.beforeMs)),
      between: median(p.runs.map((x) => x.betweenMs)),
      after: median(p.runs.map((x) => x.afterMs)),
    };
    lines.push(
      `- **Fresh tenant** (${seconds(p.medianTotalMs)} vs a ${seconds(r.floor.oneConnection.ms)} floor): remote commands ran ${seconds(p.medianRemoteMs)}; of the ${seconds(p.medianOverheadMs)} overhead, ${seconds(split.before)} came before the first remote command, ${seconds(split.between)} between them and ${seconds(split.after)} after the last.${apply ? ` The apply is ${calls(apply)} (${apply.calls.map((c) => c.command).join(", ")}); the engine call alone took ${seconds(apply.engineMs)}, the others ${seconds(apply.inCliMs - apply.engineMs)}.` : ""}`,
    );
  }

  const e = r.emptyUp;
  if (has("No-op up") && r.steady && e) {
    const on = profile("no-op up");
    const off = profile("no-op up, pack off");
    lines.push(
      `- **No-op up** (${seconds(r.steady.noopUp.medianMs)} vs ${seconds(e.medianWithPackMs)} for an empty program): the pack's start and checks cost ${seconds(e.medianWithPackMs - e.medianWithoutPackMs)} of any up here (empty program with / without it)${on && off ? `; the tenant's no-op up is ${calls(on)}, ${cpu(on.cliCpuMs)} in pulumi processes with the pack, ${cpu(off.cliCpuMs)} without` : ""}; what is left above the floor (${seconds(r.steady.noopUp.medianMs - e.medianWithPackMs)}) is the tenant program's own run (language host, the component's registration) and the worker's round trip.`,
    );
  }

  if (has("Control-plane CPU") && p) {
    const apply = profile("apply (fresh tenant)");
    const total = median(p.runs.map((x) => x.cpuAutomationMs));
    lines.push(
      `- **Control-plane CPU per fresh tenant** (${cpu(total)}):${apply ? ` in the profiled apply, ${cpu(apply.cliCpuMs)} of ${cpu(apply.cpuAutomationMs)} were the pulumi processes (CLI, language host, provider plugin, the pack's analyzer), the rest the worker's and this process's Node` : " the profile did not run, so the split by process is unknown"}; at this rate ${r.cores} cores provision at most ${((r.cores * 60_000) / total).toFixed(0)} tenants a minute with the hosts elsewhere.`,
    );
  }

  for (const t of [...missed].filter((m) => m.startsWith("Pool 4 / pool 1"))) {
    const latencyMs = t.includes("latency none") ? 0 : Number(/latency (\d+) ms/.exec(t)?.[1] ?? Number.NaN);
    const s = speedup(r.throughput ?? [], latencyMs);
    if (!s) continue;
    const { one } = s;
    const bothCpu = one.cpuAutomationMs + one.cpuHostMs;
    lines.push(
      `- **${t}** (${ratio(s.speedup)}): the pool-of-1 pass used ${cpu(one.cpuAutomationMs / one.tenants)} (control plane) + ${cpu(one.cpuHostMs / one.tenants)} (test host) per tenant, all on these ${r.cores} cores: no pool can go below ${seconds(bothCpu / r.cores)} for the ${one.tenants}, a speedup of at most ${ratio(one.wallMs / (bothCpu / r.cores))} on this machine${one.latencyMs > 0 ? "" : "; without host latency there is little waiting for a pool to overlap"}.`,
    );
  }

  const d = r.fleet?.drift;
  if (has("drift --all") && d)
    lines.push(
      `- **drift --all** (${seconds(d.wallMs)} for ${d.tenants}): ${seconds(d.wallMs / d.tenants)} per tenant on a pool of ${d.poolSize}; median per tenant as the CLI reports it ${seconds(d.medianTenantMs)}.`,
    );

  const i = r.ingest;
  if (has("Webhook ingest") && i) {
    const perEvent = i.cpuMsPerEvent.service + i.cpuMsPerEvent.postgres;
    lines.push(
      `- **Webhook ingest** (${Math.round(i.eventsPerSecond)} events/s, p99 ${i.p99Ms.toFixed(1)} ms): ${perEvent.toFixed(2)} ms of CPU per event (service ${i.cpuMsPerEvent.service.toFixed(2)}, Postgres ${i.cpuMsPerEvent.postgres.toFixed(2)}), plus the load process's ${i.cpuMsPerEvent.load.toFixed(2)} ms on the same cores: at most ${Math.round((r.cores * 1000) / (perEvent + i.cpuMsPerEvent.load))} events/s on this machine.`,
    );
  }

  const n = r.renewal;
  if (has("Renewal day") && n)
    lines.push(
      `- **Renewal day**: ${n.overTimeout} of ${n.events} acknowledgements over ${n.options.timeoutSeconds} s (p99 ${n.ack.p99Ms.toFixed(1)} ms, sender lag at worst ${n.senderLagMaxMs.toFixed(0)} ms), ${n.reconcilesCaused} reconciles queued; the listing's floor at ${n.options.stripeRate} requests/s is ${seconds((n.sweep.pages / n.options.stripeRate) * 1000)} for its ${n.sweep.pages} pages, it took ${seconds(n.sweep.listMs)}.`,
    );

  for (const [name, pick] of PORTAL_PAGES) {
    const row = r.portal?.find(pick);
    if (!row || !has(`Portal: ${name}`)) continue;
    lines.push(
      `- **Portal, ${name}** (p95 ${row.p95Ms} ms, p50 ${row.p50Ms} ms): ${row.perSecond} requests/s with ${row.concurrency} in flight, so at most ${((r.cores * 1000) / row.perSecond).toFixed(0)} ms of CPU per request on ${r.cores} cores (server render and its queries); the rest of the p95 is waiting behind the other ${row.concurrency - 1} requests.`,
    );
  }
  return lines;
}
