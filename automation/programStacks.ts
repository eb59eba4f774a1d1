/**
 * Stacks that are not tenants, run through the Automation API the same way:
 * the host stacks (components/dokkuHost.ts, one per Dokku host) and the platform
 * stack (stacks/platform/). Same backend, secrets provider, toolchain, timeout
 * and typed result as tenant stacks; one operation at a time per stack (Pulumi's
 * own stack lock, retried); run inline in the calling process, which is an
 * operator CLI running one operation.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import {
  type ConfigMap,
  LocalWorkspace,
  type PulumiFn,
  Stack,
  StackNotFoundError,
} from "@pulumi/pulumi/automation/index.js";
import { classify, OperationContext, retryConcurrent } from "./operationContext.ts";
import { type OperationOptions, type OperationResult, plainOutputs } from "./operationResult.ts";
import { pulumiCommand, pulumiEnv } from "./pulumiToolchain.ts";
import type { AutomationSettings } from "./settings.ts";
import { setStackConfig } from "./stackSecrets.ts";
import type { PolicyPackOptions } from "./tenantStacks.ts";

export interface ProgramStack {
  /** The Pulumi project (`mindroom-host`, `mindroom-platform`). */
  readonly project: string;
  /** The stack's name within it. */
  readonly stack: string;
  readonly program: PulumiFn;
  /** The same program's file for the pulumi CLI (`pulumi -C <dir> preview`), absolute. */
  readonly main: string;
  /** The stack's whole config; secrets marked. */
  readonly config: ConfigMap;
  /** The policy pack every preview and up runs through (undefined: none). */
  readonly policy?: PolicyPackOptions;
}

export type ProgramOperation = "preview" | "up" | "destroy";

export class ProgramStackNotFoundError extends Error {
  override readonly name = "ProgramStackNotFoundError";
}

async function openStack(settings: AutomationSettings, def: ProgramStack, create: boolean): Promise<Stack> {
  const workDir = join(settings.workspacesDir, `${def.project}--${def.stack}`);
  mkdirSync(workDir, { recursive: true });
  const workspace = await LocalWorkspace.create({
    pulumiCommand: await pulumiCommand(),
    workDir,
    pulumiHome: pulumiEnv().PULUMI_HOME,
    envVars: {
      ...pulumiEnv(),
      ...settings.backendEnv,
      ...settings.secretsEnv,
      PULUMI_BACKEND_URL: settings.backendUrl,
    },
    ...(settings.secretsProvider === "passphrase" ? {} : { secretsProvider: settings.secretsProvider }),
    program: def.program,
    projectSettings: {
      name: def.project,
      runtime: { name: "nodejs", options: { typescript: false } },
      main: def.main,
      backend: { url: settings.backendUrl },
    },
  });
  try {
    return create
      ? await Stack.createOrSelect(def.stack, workspace)
      : await Stack.select(def.stack, workspace);
  } catch (error) {
    if (error instanceof StackNotFoundError)
      throw new ProgramStackNotFoundError(`no stack ${def.project}/${def.stack}: run up for it first`);
    throw error;
  }
}

/** Preview, up or destroy (which also removes the stack) with the stack's config written first. */
export async function runProgramStack(
  settings: AutomationSettings,
  def: ProgramStack,
  operation: ProgramOperation,
  options: OperationOptions = {},
): Promise<OperationResult> {
  const started = Date.now();
  const ctx = new OperationContext(options, settings.operationTimeoutMs);
  try {
    const stack = await openStack(settings, def, operation !== "destroy");
    if (operation !== "destroy") await setStackConfig(stack, def.config);
    let partial: Partial<OperationResult>;
    if (operation === "preview") {
      const result = await stack.preview({ ...ctx.engine(true), ...def.policy });
      partial = { changes: result.changeSummary, steps: ctx.steps };
    } else if (operation === "up") {
      const result = await retryConcurrent(() => {
        const run = ctx.engineRun("update");
        return run.stack(stack).up({ ...run.options, ...def.policy });
      });
      partial = { changes: result.summary.resourceChanges ?? {}, outputs: plainOutputs(result.outputs) };
    } else {
      const result = await retryConcurrent(() => {
        const run = ctx.engineRun("destroy");
        return run.stack(stack).destroy(run.options);
      });
      await stack.workspace.removeStack(stack.name);
      partial = { changes: result.summary.resourceChanges ?? {} };
    }
    return ctx.result(def.stack, operation, "succeeded", started, partial);
  } catch (error) {
    return ctx.result(
      def.stack,
      operation,
      ctx.cancelled ? "cancelled" : "failed",
      started,
      {},
      classify(error),
    );
  } finally {
    ctx.dispose();
  }
}

export async function programStackOutputs(
  settings: AutomationSettings,
  def: ProgramStack,
): Promise<Record<string, unknown>> {
  return plainOutputs(await (await openStack(settings, def, false)).outputs());
}
