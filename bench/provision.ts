/**
 * Measurement 1: provisioning latency of one new tenant through the automation
 * layer (`apply` = ensure + up of a fresh stack, through the worker pool, as the
 * reconcile worker and the CLI run it). The remote commands' own time is the
 * wall time with at least one `command:remote:Command` running; everything else
 * is the engine's and the automation layer's overhead.
 */
import type { Operations } from "../automation/operations.ts";
import { cpuWindow } from "./cpu.ts";
import { type Bench, hostBusyMs, now, RemoteTimeline } from "./harness.ts";
import { median } from "./stats.ts";

export interface ProvisionRun {
  readonly slug: string;
  readonly totalMs: number;
  readonly remoteMs: number;
  readonly overheadMs: number;
  /** Submit → first remote command: ensure (stack init, config), workspace, program start, plan. */
  readonly beforeMs: number;
  /** Between remote commands: engine steps, provider calls, waiting on dependencies. */
  readonly betweenMs: number;
  /** Last remote command → result: the SDK's follow-up CLI calls, IPC. */
  readonly afterMs: number;
  readonly remoteCommands: number;
  /** Dokku commands the host ran for this tenant, and the time they were in flight. */
  readonly dokkuCommands: number;
  readonly hostMs: number;
  /** CPU the automation layer's and the test host's processes used for this apply, and how busy the machine was. */
  readonly cpuAutomationMs: number;
  readonly cpuHostMs: number;
  readonly machineBusy: number;
}

export interface ProvisionResult {
  readonly runs: readonly ProvisionRun[];
  readonly medianTotalMs: number;
  readonly medianRemoteMs: number;
  readonly medianOverheadMs: number;
}

export async function measureProvisioning(
  bench: Bench,
  ops: Operations,
  slugs: readonly string[],
): Promise<ProvisionResult> {
  const runs: ProvisionRun[] = [];
  for (const [i, slug] of slugs.entries()) {
    bench.log(`provisioning ${i + 1}/${slugs.length}: apply ${slug}`);
    const timeline = new RemoteTimeline();
    const cpu = cpuWindow();
    const start = now();
    const result = await ops.pool.apply(bench.spec(slug), ops.secrets(), { onProgress: timeline.onProgress });
    const end = now();
    const used = cpu();
    bench.expectSucceeded([result], `apply ${slug}`);
    const host = await bench.hostCommands(start, end);
    const totalMs = end - start;
    const run: ProvisionRun = {
      slug,
      totalMs,
      remoteMs: timeline.remoteMs,
      overheadMs: totalMs - timeline.remoteMs,
      ...timeline.split(start, end),
      remoteCommands: timeline.commands,
      dokkuCommands: host.length,
      hostMs: hostBusyMs(host),
      cpuAutomationMs: used.automationMs,
      cpuHostMs: used.hostMs,
      machineBusy: used.machineBusy,
    };
    bench.log(
      `  ${slug}: ${(totalMs / 1000).toFixed(1)} s total, ${(run.remoteMs / 1000).toFixed(1)} s remote commands (${run.remoteCommands}), ${(run.overheadMs / 1000).toFixed(1)} s overhead`,
    );
    runs.push(run);
  }
  return {
    runs,
    medianTotalMs: median(runs.map((r) => r.totalMs)),
    medianRemoteMs: median(runs.map((r) => r.remoteMs)),
    medianOverheadMs: median(runs.map((r) => r.overheadMs)),
  };
}
