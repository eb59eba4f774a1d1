/**
 * Where the project's own Pulumi toolchain lives and how every CLI process it
 * starts must be configured. toolchain/ensure.sh builds it; this module only
 * finds it, so the Automation API never falls back to a `pulumi` on PATH or
 * downloads anything.
 */
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { PulumiCommand } from "@pulumi/pulumi/automation/index.js";

const REPO_ROOT = resolve(import.meta.dirname, "..");

/** The pulumi CLI is not built yet, or was built at another version. */
export class PulumiToolchainError extends Error {
  override readonly name = "PulumiToolchainError";
}

/** The ignored folder toolchain/ensure.sh fills (`MINDROOM_TOOLS_DIR` overrides it). */
export function toolsDir(): string {
  return process.env.MINDROOM_TOOLS_DIR ?? join(REPO_ROOT, ".tools");
}

/**
 * Environment for every pulumi process: the project-local PULUMI_HOME (the
 * command provider is installed there), no plugin downloads, no update checks.
 */
export function pulumiEnv(): Record<string, string> {
  return {
    PULUMI_HOME: join(toolsDir(), "pulumi-home"),
    PULUMI_SKIP_UPDATE_CHECK: "true",
    PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
  };
}

let cached: Promise<PulumiCommand> | undefined;

/**
 * The project's pulumi CLI, version-checked once per process and shared by every
 * workspace (each LocalWorkspace would otherwise spawn `pulumi version` again).
 */
export function pulumiCommand(): Promise<PulumiCommand> {
  cached ??= (async () => {
    // MINDROOM_PULUMI_ROOT: another folder with bin/pulumi (the benchmark puts a call-logging wrapper there).
    const root = process.env.MINDROOM_PULUMI_ROOT ?? join(toolsDir(), "pulumi");
    if (!existsSync(join(root, "bin", "pulumi"))) {
      throw new PulumiToolchainError(
        `no pulumi CLI in ${root}/bin: run toolchain/ensure.sh (./platform setup) to build it`,
      );
    }
    return PulumiCommand.get({ root });
  })();
  return cached;
}
