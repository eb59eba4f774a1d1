/**
 * Every program started on the test host while a trace runs, with its full
 * argv: `strace` follows the instance's sshd and everything its sessions start
 * (the login shell, `dokku`, the double, `sh`, `install`, …), which is exactly
 * what a user of the host could have seen in its process list. The command log
 * records Dokku's argv only; this covers every other process too, so a test can
 * prove that a secret never was a process argument.
 *
 * Needs root and `strace` (Debian's package); only the project's own host.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";

export interface ExecRecord {
  readonly pid: number;
  /** The program and its arguments as the kernel received them (C escapes as strace prints them). */
  readonly argv: readonly string[];
}

export interface ExecTrace {
  /** Stops tracing and returns every exec seen since `start`. */
  stop(): Promise<ExecRecord[]>;
}

export class ExecTraceError extends Error {
  override readonly name = "ExecTraceError";
}

/** The argv list of one strace `execve(...)` line, its strings unescaped. */
export function parseExecLine(line: string): ExecRecord | undefined {
  const match = /^(\d+)\s+execve\("(?:[^"\\]|\\.)*", \[(.*)\](?:\.\.\.)?, /.exec(line);
  if (!match) return undefined;
  const argv = [...(match[2] ?? "").matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((m) =>
    (m[1] ?? "").replace(/\\(x[0-9a-f]{2}|[0-7]{1,3}|.)/g, (_, e: string) => {
      if (e.startsWith("x")) return String.fromCharCode(Number.parseInt(e.slice(1), 16));
      if (/^[0-7]+$/.test(e)) return String.fromCharCode(Number.parseInt(e, 8));
      return ({ n: "\n", t: "\t", r: "\r", v: "\v", f: "\f" } as Record<string, string>)[e] ?? e;
    }),
  );
  return { pid: Number(match[1]), argv };
}

/** Starts tracing the sshd of the instance at `instanceDir` (its `ssh/sshd.pid`). */
export async function startExecTrace(instanceDir: string): Promise<ExecTrace> {
  const pidFile = join(instanceDir, "ssh", "sshd.pid");
  if (!existsSync(pidFile)) throw new ExecTraceError(`no sshd pid file at ${pidFile}`);
  const sshdPid = readFileSync(pidFile, "utf8").trim();
  const out = join(instanceDir, `exec-trace-${process.pid}-${Date.now()}.log`);
  const strace: ChildProcess = spawn(
    "strace",
    ["-f", "-qq", "-e", "trace=execve", "-e", "signal=none", "-s", "65536", "-o", out, "-p", sshdPid],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  let stderr = "";
  strace.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = once(strace, "exit");
  // strace attaches before it writes anything; wait until the output file exists.
  for (let i = 0; i < 100 && !existsSync(out); i++) {
    if (strace.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  if (!existsSync(out) || strace.exitCode !== null) {
    strace.kill("SIGKILL");
    throw new ExecTraceError(`strace could not attach to sshd ${sshdPid}: ${stderr.trim() || "no output"}`);
  }
  return {
    async stop() {
      strace.kill("SIGINT");
      await exited;
      const records = readFileSync(out, "utf8")
        .split("\n")
        .map(parseExecLine)
        .filter((r): r is ExecRecord => r !== undefined);
      rmSync(out, { force: true });
      return records;
    },
  };
}
