/**
 * Diagnostic (not a target): where an operation's time goes, by the pulumi CLI
 * processes it starts. The Automation API drives the CLI one process per call,
 * and the automation layer takes its CLI from MINDROOM_PULUMI_ROOT when set, so
 * a logging wrapper there sees every call: which subcommand, when, how long. Run
 * on its own tenant with its own pool, so the wrapper (a bash process per call,
 * a few ms) never touches the headline figures. It logs subcommand words only:
 * the arguments carry secrets (`config set-all --secret …`).
 */
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { OperationResult } from "../automation/operationResult.ts";
import { toolsDir } from "../automation/pulumiToolchain.ts";
import { cpuWindow } from "./cpu.ts";
import { type Bench, hostBusyMs, now } from "./harness.ts";
import { unionLength } from "./stats.ts";

export interface CliCall {
  readonly command: string;
  readonly ms: number;
  /** CPU of the pulumi process and what it reaped (provider plugin, analyzer). */
  readonly cpuMs: number;
}

export interface OperationProfile {
  readonly operation: string;
  readonly wallMs: number;
  readonly calls: readonly CliCall[];
  /** The call that ran the engine (up, preview, refresh, destroy): wall and CPU. */
  readonly engineMs: number;
  readonly engineCpuMs: number;
  /** Wall time inside any pulumi process, and the CPU of all of them. */
  readonly inCliMs: number;
  readonly cliCpuMs: number;
  /** CPU of the automation layer's processes (pulumi calls included) and of the test host's. */
  readonly cpuAutomationMs: number;
  readonly cpuHostMs: number;
  /** Dokku commands the host ran during the operation, and their time in flight. */
  readonly dokkuCommands: number;
  readonly hostMs: number;
}

const ENGINE = /^(up|preview|refresh|destroy)\b/;

function wrapper(real: string, log: string): string {
  return `#!/bin/bash
# Benchmark wrapper: logs the wall and CPU time and the subcommand words of each pulumi call.
start=$EPOCHREALTIME
${JSON.stringify(real)} "$@"
rc=$?
end=$EPOCHREALTIME
# CPU of the call and everything it reaped (plugins, the analyzer): the times builtin, run in this shell
# (a subshell would report its own, empty, children).
times > ${JSON.stringify(log)}.$$
{ read -r _; read -r user system; } < ${JSON.stringify(log)}.$$
rm -f ${JSON.stringify(log)}.$$
# The subcommand: one word, two for the groups (stack select, config set-all); never a stack name.
words=""
case $1 in
  stack | config | plugin) case $2 in -* | "") words=" $1" ;; *) words=" $1 $2" ;; esac ;;
  *) words=" $1" ;;
esac
case " $* " in *" --preview-only "*) words="$words --preview-only" ;; esac
printf '%s %s %s %s%s\\n' "$start" "$end" "$user" "$system" "$words" >> ${JSON.stringify(log)}
exit $rc
`;
}

export async function profileOperations(bench: Bench, slug: string): Promise<OperationProfile[]> {
  const dir = join(bench.dataDir, "pulumi-wrapper");
  mkdirSync(join(dir, "bin"), { recursive: true });
  const log = join(dir, "calls.log");
  writeFileSync(join(dir, "bin", "pulumi"), wrapper(join(toolsDir(), "pulumi", "bin", "pulumi"), log));
  chmodSync(join(dir, "bin", "pulumi"), 0o755);
  const root = process.env.MINDROOM_PULUMI_ROOT;
  // Workers inherit the environment when the pool forks them, so it must point at the wrapper before that.
  process.env.MINDROOM_PULUMI_ROOT = dir;
  const profiles: OperationProfile[] = [];
  try {
    // The same life once more without the policy pack: the difference is what the pack costs.
    for (const policies of [true, false]) {
      const tenant = policies ? slug : `${slug}-nopack`;
      const label = (operation: string) => (policies ? operation : `${operation}, pack off`);
      bench.log(
        `profile: pulumi CLI calls per operation (${tenant}, pool of 1, wrapped CLI, pack ${policies ? "on" : "off"})`,
      );
      const { ops } = await bench.operations(1, { policies });
      try {
        const steps: [string, () => Promise<OperationResult>][] = [
          [label("apply (fresh tenant)"), () => ops.pool.apply(bench.spec(tenant), ops.secrets())],
          [label("no-op up"), () => ops.pool.run("up", tenant)],
          [label("preview"), () => ops.pool.run("preview", tenant)],
          ...(policies
            ? [["drift", () => ops.pool.run("drift", tenant)] as [string, () => Promise<OperationResult>]]
            : []),
          [label("destroy"), () => ops.pool.destroy(tenant)],
        ];
        for (const [operation, run] of steps) profiles.push(await profile(bench, log, operation, run));
      } finally {
        await ops.close();
      }
    }
  } finally {
    if (root === undefined) delete process.env.MINDROOM_PULUMI_ROOT;
    else process.env.MINDROOM_PULUMI_ROOT = root;
  }
  await bench.resetHost();
  return profiles;
}

async function profile(
  bench: Bench,
  log: string,
  operation: string,
  run: () => Promise<OperationResult>,
): Promise<OperationProfile> {
  writeFileSync(log, "");
  const cpu = cpuWindow();
  const start = now();
  const result = await run();
  const end = now();
  const used = cpu();
  bench.expectSucceeded([result], `profile: ${operation}`);
  const calls = readCalls(log);
  const host = await bench.hostCommands(start, end);
  const engine = calls.filter((c) => ENGINE.test(c.command));
  const sum = (cs: readonly CliCall[], f: (c: CliCall) => number) => cs.reduce((t, c) => t + f(c), 0);
  const p: OperationProfile = {
    operation,
    wallMs: end - start,
    calls,
    engineMs: sum(engine, (c) => c.ms),
    engineCpuMs: sum(engine, (c) => c.cpuMs),
    inCliMs: unionLength(calls.map((c) => ({ start: c.start, end: c.start + c.ms }))),
    cliCpuMs: sum(calls, (c) => c.cpuMs),
    cpuAutomationMs: used.automationMs,
    cpuHostMs: used.hostMs,
    dokkuCommands: host.length,
    hostMs: hostBusyMs(host),
  };
  bench.log(
    `  ${operation}: ${(p.wallMs / 1000).toFixed(1)} s, ${calls.length} pulumi processes (${(p.inCliMs / 1000).toFixed(1)} s), engine call ${(p.engineMs / 1000).toFixed(1)} s; CPU ${(p.cpuAutomationMs / 1000).toFixed(1)} s automation (${(p.cliCpuMs / 1000).toFixed(1)} s in pulumi processes), ${(p.cpuHostMs / 1000).toFixed(1)} s host`,
  );
  return p;
}

/** `0m1.234s` (bash's times) in milliseconds. */
function bashTime(text: string | undefined): number {
  const m = /^(\d+)m([\d.]+)s$/.exec(text ?? "");
  return m ? (Number(m[1]) * 60 + Number(m[2])) * 1000 : 0;
}

function readCalls(log: string): (CliCall & { start: number })[] {
  return readFileSync(log, "utf8")
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((line) => {
      const [start = "0", end = "0", user, system, ...words] = line.split(" ");
      // bash's EPOCHREALTIME is seconds with microseconds: the same epoch as now().
      return {
        start: Number(start) * 1000,
        ms: (Number(end) - Number(start)) * 1000,
        cpuMs: bashTime(user) + bashTime(system),
        command: words.join(" "),
      };
    });
}

/** `version ×3 (0.9 s), stack select ×2 (0.5 s), …` in order of first appearance. */
export function summariseCalls(calls: readonly CliCall[]): string {
  const groups = new Map<string, { n: number; ms: number }>();
  for (const c of calls) {
    const g = groups.get(c.command) ?? { n: 0, ms: 0 };
    g.n++;
    g.ms += c.ms;
    groups.set(c.command, g);
  }
  return [...groups.entries()]
    .map(([command, g]) => `${command}${g.n > 1 ? ` ×${g.n}` : ""} (${(g.ms / 1000).toFixed(1)} s)`)
    .join(", ");
}
