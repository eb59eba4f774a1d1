/**
 * Where the project's own Pulumi toolchain lives and how every CLI process it
 * starts must be configured. toolchain/ensure.sh builds it; this module only
 * finds it, so the Automation API never falls back to a `pulumi` on PATH or
 * downloads anything.
 */
import { accessSync, constants, existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { PulumiCommand } from "@pulumi/pulumi/automation/index.js";
import { tetherPath } from "../processes/tether.ts";
import { toolsDir } from "../toolchain/tools.ts";

export { toolsDir };

/** The pulumi CLI is not built yet, or was built at another version. */
export class PulumiToolchainError extends Error {
  override readonly name = "PulumiToolchainError";
}

/**
 * Environment for every pulumi process: the project-local PULUMI_HOME (the
 * command provider is installed there), no plugin downloads, no update checks,
 * and Node's compile cache for the Node processes pulumi starts (the program,
 * the policy analyzer), which load @pulumi/pulumi afresh on every preview and
 * update: with the cache the program's start costs about a third less CPU.
 */
export function pulumiEnv(): Record<string, string> {
  const cache = compileCacheDir();
  return {
    PULUMI_HOME: join(toolsDir(), "pulumi-home"),
    PULUMI_SKIP_UPDATE_CHECK: "true",
    PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
    ...(cache ? { NODE_COMPILE_CACHE: cache } : {}),
  };
}

/** The tools folder's compile cache (policies/analyzer uses the same), unless the folder is read-only. */
function compileCacheDir(): string | undefined {
  try {
    accessSync(toolsDir(), constants.W_OK);
    return join(toolsDir(), "node-compile-cache");
  } catch {
    return undefined;
  }
}

let cached: Promise<PulumiCommand> | undefined;

/**
 * The project's pulumi CLI, version-checked once per process and shared by every
 * workspace (each LocalWorkspace would otherwise spawn `pulumi version` again).
 */
export function pulumiCommand(): Promise<PulumiCommand> {
  cached ??= (async () => {
    const built = join(toolsDir(), "pulumi");
    if (!existsSync(join(built, "bin", "pulumi"))) {
      throw new PulumiToolchainError(
        `no pulumi CLI in ${built}/bin: run toolchain/ensure.sh (./platform setup) to build it`,
      );
    }
    tetherPath(); // fails the same way when tether is not built
    // The built CLI through tether (toolchain/tethered-pulumi), so nothing it starts outlives the
    // process that ran it. MINDROOM_PULUMI_ROOT: another folder with bin/pulumi (the benchmark
    // puts a call-logging wrapper there).
    const root =
      process.env.MINDROOM_PULUMI_ROOT ?? resolve(import.meta.dirname, "..", "toolchain", "tethered-pulumi");
    return PulumiCommand.get({ root });
  })();
  return cached;
}
