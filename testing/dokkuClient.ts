/**
 * Runs one Dokku command over SSH the way production does (`ssh dokku@host
 * <command>`), with the system OpenSSH client. The command string is sent as
 * is, so tests exercise Dokku's real server-side argument parsing; quoting for
 * production lives with the code that builds commands, not here.
 */
import { spawn } from "node:child_process";
import { sshOptions } from "../automation/hostShell.ts";

export interface DokkuConnection {
  host: string;
  port: number;
  user: string;
  /** Private key file accepted by the host. */
  keyPath: string;
  /** known_hosts file that pins the host key (`StrictHostKeyChecking=yes`). */
  knownHostsPath: string;
}

export interface DokkuResult {
  /** The remote exit code; 255 means the SSH transport failed. */
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /** Sent to the command's stdin (stdin is closed right away otherwise). */
  stdin?: string | Buffer;
  /** Prefix the command with Dokku's global `--quiet` flag. */
  quiet?: boolean;
}

export function sshArgs(target: DokkuConnection, command: string): string[] {
  // No user or system ssh_config: the test must not depend on the machine it runs on.
  return [...sshOptions({ ...target, logLevel: "QUIET" }), "--", command];
}

export async function runDokku(
  target: DokkuConnection,
  command: string,
  options: RunOptions = {},
): Promise<DokkuResult> {
  const raw = await runDokkuBytes(target, command, options);
  return { ...raw, stdout: raw.stdout.toString("utf8") };
}

/** As runDokku, with stdout as the bytes the host sent (an export's binary dump). */
export function runDokkuBytes(
  target: DokkuConnection,
  command: string,
  options: RunOptions = {},
): Promise<Omit<DokkuResult, "stdout"> & { stdout: Buffer }> {
  const full = options.quiet ? `--quiet ${command}` : command;
  return new Promise((resolve, reject) => {
    const child = spawn("ssh", sshArgs(target, full), { stdio: ["pipe", "pipe", "pipe"] });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on("data", (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on("data", (chunk: Buffer) => stderr.push(chunk));
    child.once("error", reject);
    child.once("close", (code, signal) => {
      resolve({
        code: code ?? (signal ? 255 : -1),
        stdout: Buffer.concat(stdout),
        stderr: Buffer.concat(stderr).toString("utf8"),
      });
    });
    // A dropped connection may close stdin under us; that is the result under test, not an error.
    child.stdin.on("error", () => undefined);
    child.stdin.end(options.stdin ?? "");
  });
}
