/**
 * Writes a stack's config without its secrets ever reaching a command line.
 * The Automation API's `setAllConfig` runs `pulumi config set-all --secret
 * key=value …`, and any local user can read a process's argv in
 * /proc/<pid>/cmdline. Plain values still go through it (one process for all);
 * each secret is set with `pulumi config set --secret --raw <key>` and its
 * value on stdin, which the CLI reads when no value is given and stdin is not
 * a terminal (`--raw` keeps trailing newlines, so a private key round-trips
 * byte for byte). The CLI runs exactly as the workspace would run it: same
 * binary, environment and folder.
 */
import { spawn } from "node:child_process";
import { delimiter, dirname, isAbsolute } from "node:path";
import type { ConfigMap, Stack } from "@pulumi/pulumi/automation/index.js";

/** The pulumi CLI refused a secret; the message names the key and the CLI's stderr, never the value. */
export class StackSecretWriteError extends Error {
  override readonly name = "StackSecretWriteError";
}

/** Upserts `config` into the stack's config (other keys stay); secrets are passed on stdin. */
export async function setStackConfig(stack: Stack, config: ConfigMap): Promise<void> {
  const entries = Object.entries(config);
  const plain = Object.fromEntries(entries.filter(([, v]) => !v.secret));
  if (Object.keys(plain).length > 0) await stack.setAllConfig(plain);
  // One at a time: each process rewrites the stack's config file.
  for (const [key, v] of entries) if (v.secret) await setSecret(stack, key, v.value);
}

async function setSecret(stack: Stack, key: string, value: string): Promise<void> {
  const ws = stack.workspace;
  const command = ws.pulumiCommand.command;
  // What LocalWorkspace.runPulumiCmd and PulumiCommand.run give every CLI process.
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...(ws.pulumiHome ? { PULUMI_HOME: ws.pulumiHome } : {}),
    ...ws.envVars,
    PULUMI_AUTOMATION_API: "true",
  };
  if (isAbsolute(command)) env.PATH = [dirname(command), ws.envVars.PATH ?? process.env.PATH].join(delimiter);
  const args = ["config", "set", key, "--stack", stack.name, "--secret", "--raw", "--non-interactive"];
  const { code, stderr } = await new Promise<{ code: number | null; stderr: string }>(
    (resolvePromise, reject) => {
      const child = spawn(command, args, { cwd: ws.workDir, env, stdio: ["pipe", "ignore", "pipe"] });
      let err = "";
      child.stderr.setEncoding("utf8").on("data", (chunk: string) => (err += chunk));
      // The CLI may exit before reading stdin (a bad stack, say); its exit status says why, not EPIPE.
      child.stdin.on("error", () => {});
      child.on("error", reject);
      child.on("close", (exitCode) => resolvePromise({ code: exitCode, stderr: err }));
      child.stdin.end(value);
    },
  );
  if (code !== 0) {
    throw new StackSecretWriteError(
      `pulumi config set --secret ${key} on stack ${stack.name} failed (exit ${code}): ${stderr.trim()}`,
    );
  }
}
