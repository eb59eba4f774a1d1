/**
 * The Python venv toolchain/ensure.sh builds for the tests (`--only synapse`): Matrix Synapse and
 * PyJWT. Processes started from it die with the test process that started them (a parent-death
 * signal set by util-linux's `setpriv`), so a killed test run leaves no homeserver behind.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { toolsDir } from "../automation/pulumiToolchain.ts";

export function venvPython(): string {
  const python = join(toolsDir(), "synapse", "bin", "python");
  if (!existsSync(python))
    throw new Error(
      `no Python venv at ${python}: run toolchain/ensure.sh --only synapse (./platform test does)`,
    );
  return python;
}

/** Starts `python <args>` bound to this process's life; resolves with the child and its first stdout line. */
export async function startPython(
  args: readonly string[],
  options: { readonly env?: Record<string, string>; readonly cwd?: string } = {},
): Promise<{ readonly child: ChildProcess; readonly firstLine: string; output(): string }> {
  const child = spawn("setpriv", ["--pdeathsig", "KILL", "--", venvPython(), ...args], {
    env: { PATH: process.env.PATH ?? "", ...options.env },
    ...(options.cwd ? { cwd: options.cwd } : {}),
    stdio: ["ignore", "pipe", "pipe"],
  });
  let log = "";
  child.stderr?.on("data", (chunk) => {
    log = (log + chunk).slice(-20_000);
  });
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  const firstLine = await new Promise<string>((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`python ${args[0]} exited with ${code}:\n${log}`)));
    lines.once("line", resolve);
  });
  return { child, firstLine, output: () => log };
}

export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((done) => child.once("exit", done));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
  await exited;
  clearTimeout(timer);
}
