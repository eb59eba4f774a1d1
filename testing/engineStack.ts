/**
 * Real-engine test stacks: the project's pulumi CLI, an inline program, a file
 * backend in a temporary folder and passphrase secrets. Nothing is shared with
 * other tests or the developer's machine.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LocalWorkspace, type PulumiFn, type Stack } from "@pulumi/pulumi/automation/index.js";
import { pulumiCommand, pulumiEnv } from "../automation/pulumiToolchain.ts";
import type { DokkuConnection } from "./dokkuClient.ts";

export interface EngineStack {
  readonly stack: Stack;
  readonly backendDir: string;
  /** Removes the stack's state folder. */
  dispose(): void;
}

export async function engineStack(
  project: string,
  stackName: string,
  program: PulumiFn,
): Promise<EngineStack> {
  const backendDir = mkdtempSync(join(tmpdir(), "mindroom-engine-"));
  const stack = await LocalWorkspace.createOrSelectStack(
    { projectName: project, stackName, program },
    {
      pulumiCommand: await pulumiCommand(),
      workDir: backendDir,
      projectSettings: { name: project, runtime: "nodejs", backend: { url: `file://${backendDir}` } },
      envVars: { ...pulumiEnv(), PULUMI_CONFIG_PASSPHRASE: "engine-test-passphrase" },
    },
  );
  return { stack, backendDir, dispose: () => rmSync(backendDir, { recursive: true, force: true }) };
}

/** The host's public key as one `type base64` line, for the command provider's `hostKey`. */
export function hostKeyOf(target: Pick<DokkuConnection, "knownHostsPath">): string {
  const line = readFileSync(target.knownHostsPath, "utf8")
    .split("\n")
    .find((l) => l.trim() !== "" && !l.startsWith("#"));
  const parts = line?.trim().split(/\s+/) ?? [];
  if (parts.length < 3) throw new Error(`no host key in ${target.knownHostsPath}`);
  return `${parts[1]} ${parts[2]}`;
}
