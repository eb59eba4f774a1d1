/**
 * The no-op floor (issue 17): what `up` of a Pulumi program with no resources
 * costs on the same CLI, the same backend, the same secrets provider and the
 * same policy pack as a tenant's no-op `up`, measured in the same run. A tenant's
 * no-op up can only be faster than this by doing less than `pulumi up` does, so
 * the difference is what the automation layer and the tenant program add.
 * Measured with the pack (the production setting, what the target compares
 * against) and without it (the pack's own start, priced). With the pack, every
 * policy is advisory (see advisoryPack): the same load and checks, no refusal.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { defaultPolicyPack } from "../automation/operations.ts";
import { type ProgramStack, runProgramStack } from "../automation/programStacks.ts";
import type { AutomationSettings } from "../automation/settings.ts";
import type { PolicyPackOptions } from "../automation/tenantStacks.ts";
import { policies } from "../policies/policies.ts";
import { type Bench, now } from "./harness.ts";
import { median } from "./stats.ts";

export interface EmptyUpResult {
  /** Wall time of each timed `up`, with the policy pack and without it. */
  readonly withPackMs: readonly number[];
  readonly withoutPackMs: readonly number[];
  readonly medianWithPackMs: number;
  readonly medianWithoutPackMs: number;
}

const PROJECT = "mindroom-bench-empty";

/**
 * The production pack and config, every policy advisory: the pack loads and
 * runs every policy as for a tenant, but its stack policies (one tenant per
 * stack, the portal's outputs) would refuse a program that has no tenant.
 */
function advisoryPack(settings: AutomationSettings, directory: string): PolicyPackOptions | undefined {
  const pack = defaultPolicyPack(settings);
  if (!pack) return undefined;
  const config: Record<string, unknown> = {};
  for (const file of pack.policyPackConfigs) Object.assign(config, JSON.parse(readFileSync(file, "utf8")));
  for (const { name } of policies)
    config[name] = { ...(config[name] as Record<string, unknown> | undefined), enforcementLevel: "advisory" };
  const path = join(directory, "empty-program-policy.json");
  writeFileSync(path, JSON.stringify(config), { mode: 0o600 });
  return { policyPacks: pack.policyPacks, policyPackConfigs: [path] };
}

/** A program with no resources and no outputs: everything `up` costs that is not the program's. */
function emptyProgram(policy: PolicyPackOptions | undefined): ProgramStack {
  return {
    project: PROJECT,
    stack: policy ? "with-pack" : "without-pack",
    program: async () => ({}),
    // Only the CLI-driven path reads `main`; the inline program above is what runs.
    main: import.meta.filename,
    config: {},
    ...(policy ? { policy } : {}),
  };
}

export async function measureEmptyUp(bench: Bench, runs: number): Promise<EmptyUpResult> {
  const settings = bench.settings(1);
  const timed = async (withPack: boolean): Promise<number[]> => {
    const program = emptyProgram(withPack ? advisoryPack(settings, bench.dataDir) : undefined);
    const label = withPack ? "with the policy pack" : "without the policy pack";
    // Untimed: the first up creates the stack, as the tenant's first apply did.
    bench.expectSucceeded([await runProgramStack(settings, program, "up")], `empty program's first up`);
    const wall: number[] = [];
    for (let i = 0; i < runs; i++) {
      const start = now();
      const result = await runProgramStack(settings, program, "up");
      wall.push(now() - start);
      bench.expectSucceeded([result], `empty program's up ${label}`);
      bench.expectNoChanges(result, "the empty program's up");
      bench.log(`  empty program up ${label} ${i + 1}/${runs}: ${((wall.at(-1) ?? 0) / 1000).toFixed(1)} s`);
    }
    bench.expectSucceeded([await runProgramStack(settings, program, "destroy")], "removing the empty stack");
    return wall;
  };
  bench.log(`no-op floor: ${runs} ups of an empty program with the policy pack and ${runs} without`);
  const withPackMs = await timed(true);
  const withoutPackMs = await timed(false);
  return {
    withPackMs,
    withoutPackMs,
    medianWithPackMs: median(withPackMs),
    medianWithoutPackMs: median(withoutPackMs),
  };
}
