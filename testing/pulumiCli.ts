/**
 * The project's pulumi CLI, run the way an operator runs it in a checkout
 * (Pulumi.yaml at the repo root, stack config in .data/stacks), against a
 * temporary file backend. Cleans up the stack, its config file and the backend.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { pulumiEnv, toolsDir } from "../automation/pulumiToolchain.ts";
import type { TenantSpecInput } from "../components/tenantSpec.ts";
import { SAMPLE_ROOT_SECRET } from "./tenantSamples.ts";

const run = promisify(execFile);
export const REPO = resolve(import.meta.dirname, "..");

export interface PulumiCli {
  readonly stack: string;
  pulumi(...args: string[]): Promise<{ stdout: string; stderr: string }>;
  /** Writes the tenant config the automation layer would (the SSH key is a placeholder: previews never connect). */
  configureTenant(spec: TenantSpecInput): Promise<void>;
  dispose(): Promise<void>;
}

export async function pulumiCli(stack: string): Promise<PulumiCli> {
  const backend = mkdtempSync(join(tmpdir(), "mindroom-cli-"));
  const env = {
    ...process.env,
    ...pulumiEnv(),
    PULUMI_BACKEND_URL: `file://${backend}`,
    PULUMI_CONFIG_PASSPHRASE: "cli-test-passphrase",
  };
  const pulumi = (...args: string[]) =>
    run(join(toolsDir(), "pulumi", "bin", "pulumi"), [...args, "--non-interactive"], {
      cwd: REPO,
      env,
      maxBuffer: 16 << 20,
    });
  await pulumi("stack", "init", stack);
  return {
    stack,
    pulumi,
    async configureTenant(spec) {
      await pulumi("config", "set", "-s", stack, "mindroom:tenant", JSON.stringify(spec));
      await pulumi("config", "set", "-s", stack, "--secret", "mindroom:rootSecret", SAMPLE_ROOT_SECRET);
      await pulumi(
        "config",
        "set",
        "-s",
        stack,
        "--secret",
        "mindroom:sshPrivateKey",
        "not-used-by-a-preview",
      );
    },
    async dispose() {
      await pulumi("stack", "rm", stack, "--yes", "--force").catch(() => undefined);
      rmSync(join(REPO, ".data", "stacks", `Pulumi.${stack}.yaml`), { force: true });
      rmSync(backend, { recursive: true, force: true });
    },
  };
}
