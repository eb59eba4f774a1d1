/**
 * Runs a sample tenant stack through the pack: under the SDK's mocks with the
 * engine emulated (policies/testing/harness.ts), or through the real engine
 * (`pulumi preview --policy-pack policies/analyzer` via the Automation API),
 * collecting every policy violation either way.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { type EngineEvent, LocalWorkspace, type PulumiFn } from "@pulumi/pulumi/automation/index.js";
import { pulumiCommand, pulumiEnv } from "../../automation/pulumiToolchain.ts";
import { policyPackOptions } from "../packOptions.ts";
import { runPolicies, type Violation } from "./harness.ts";
import { recordProgram } from "./mockRun.ts";
import { isPlain, sampleProgram, sampleStackConfig } from "./samplePrograms.ts";
import { packConfigOf, type TenantSample } from "./samples.ts";
import type { SampleResource } from "./validationArgs.ts";

/** What the mocks record of a sample: the resources the engine would hand the pack. */
export async function recordSample(
  sample: TenantSample,
  options: { preview?: boolean } = {},
): Promise<SampleResource[]> {
  const stack = `mock-${randomBytes(4).toString("hex")}`;
  const config = isPlain(sample) ? sampleStackConfig(sample) : {};
  const run = await recordProgram(
    async () => {
      // The mocks read config from the runtime's store, as a program reads stack config.
      pulumi.runtime.setAllConfig(
        Object.fromEntries(Object.entries(config).map(([k, v]) => [k, v.value])),
        Object.entries(config).flatMap(([k, v]) => (v.secret ? [k] : [])),
      );
      return sampleProgram(sample, "mock")();
    },
    { stack, ...(sample.transform ? { transform: sample.transform } : {}), ...options },
  );
  return run.resources;
}

/** A sample under mocks, through every policy of the pack. */
export async function mockRunSample(sample: TenantSample): Promise<Violation[]> {
  return runPolicies(await recordSample(sample), packConfigOf(sample.settings));
}

export interface EngineRun {
  readonly violations: Violation[];
  /** The preview failed (a mandatory violation, or anything else: see `error`). */
  readonly failed: boolean;
  readonly error: string | undefined;
}

/**
 * A new stack for one preview, in a temporary file backend (createStack, not
 * createOrSelectStack: one CLI call fewer, and the name is fresh anyway).
 */
async function previewStack(program: PulumiFn) {
  const backendDir = mkdtempSync(join(tmpdir(), "mindroom-policy-stack-"));
  const stack = await LocalWorkspace.createStack(
    { projectName: "mindroom-tenant", stackName: `policy-${randomBytes(4).toString("hex")}`, program },
    {
      pulumiCommand: await pulumiCommand(),
      workDir: backendDir,
      projectSettings: {
        name: "mindroom-tenant",
        runtime: "nodejs",
        backend: { url: `file://${backendDir}` },
      },
      envVars: { ...pulumiEnv(), PULUMI_CONFIG_PASSPHRASE: "policy-test-passphrase" },
    },
  );
  return { stack, dispose: () => rmSync(backendDir, { recursive: true, force: true }) };
}

/**
 * Previews at once: each runs the CLI, the analyzer and a provider, so more
 * than one per core only makes them fight (measured on 2 cores: eight previews
 * take 46 s one at a time, 35 s two at a time, 37 s three at a time).
 */
const PREVIEW_SLOTS = Math.max(1, availableParallelism());
let running = 0;
const waiting: (() => void)[] = [];

async function inSlot<T>(work: () => Promise<T>): Promise<T> {
  if (running >= PREVIEW_SLOTS) await new Promise<void>((resolve) => waiting.push(resolve));
  running++;
  try {
    return await work();
  } finally {
    running--;
    waiting.shift()?.();
  }
}

/**
 * A sample previewed by the real engine with the pack, the way the automation
 * layer applies it (`withoutConfig`: the pack alone, as a forgetful operator would).
 */
export async function previewSample(
  sample: TenantSample,
  configDirectory: string,
  options: { withoutConfig?: boolean } = {},
): Promise<EngineRun> {
  return inSlot(() => preview(sample, configDirectory, options));
}

async function preview(
  sample: TenantSample,
  configDirectory: string,
  options: { withoutConfig?: boolean },
): Promise<EngineRun> {
  const engine = await previewStack(sampleProgram(sample, "engine"));
  const violations: Violation[] = [];
  try {
    if (isPlain(sample)) await engine.stack.setAllConfig(sampleStackConfig(sample));
    let error: string | undefined;
    try {
      const pack = policyPackOptions(sample.settings, configDirectory);
      await engine.stack.preview({
        policyPacks: pack.policyPacks,
        ...(options.withoutConfig ? {} : { policyPackConfigs: pack.policyPackConfigs }),
        color: "never",
        onEvent: (event: EngineEvent) => {
          const p = event.policyEvent;
          if (!p) return;
          violations.push({
            policy: p.policyName,
            level: p.enforcementLevel === "mandatory" ? "mandatory" : "advisory",
            urn: p.resourceUrn,
            message: p.message,
          });
        },
      });
    } catch (e) {
      error = e instanceof Error ? e.message : String(e);
    }
    return { violations, failed: error !== undefined, error };
  } finally {
    engine.dispose();
  }
}
