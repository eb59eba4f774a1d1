/**
 * Runs a shell script on a tenant's Dokku host over one SSH session, with the
 * system OpenSSH client: the host key pinned, the private key in a private
 * temporary file (never on a command line), nothing inherited from the user's
 * ssh config.
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { dokkuCommandLine } from "../components/dokku/commandLine.ts";
import { dokkuBinary } from "../components/dokku/script.ts";
import { sshTarget } from "../components/tenantSpec.ts";
import type { ProbeResult } from "./driftProbes.ts";

export interface HostAccess {
  /** `ssh://user@host:port` */
  readonly url: string;
  /** `ssh-ed25519 AAAA…` */
  readonly hostKey: string;
  readonly privateKey: string;
}

/**
 * OpenSSH client options for machine use: no user or system ssh_config, the
 * given key only, the host key pinned, no prompts, no TTY.
 */
export function sshOptions(t: {
  host: string;
  port: number;
  user: string;
  keyPath: string;
  knownHostsPath: string;
  logLevel?: "ERROR" | "QUIET";
}): string[] {
  return [
    "-F",
    "none",
    "-i",
    t.keyPath,
    "-p",
    String(t.port),
    "-o",
    "IdentitiesOnly=yes",
    "-o",
    "BatchMode=yes",
    "-o",
    "StrictHostKeyChecking=yes",
    "-o",
    `UserKnownHostsFile=${t.knownHostsPath}`,
    "-o",
    `LogLevel=${t.logLevel ?? "ERROR"}`,
    "-o",
    "ConnectTimeout=15",
    "-T",
    `${t.user}@${t.host}`,
  ];
}

export class HostShellError extends Error {
  override readonly name = "HostShellError";
}

/** The key and known_hosts in a private temporary folder, and the ssh arguments that use them. */
function sshSession(access: HostAccess, remote: readonly string[]): { args: string[]; dispose(): void } {
  const { user, host, port } = sshTarget(access.url);
  const dir = mkdtempSync(join(tmpdir(), "mindroom-ssh-"));
  const key = join(dir, "key");
  const knownHosts = join(dir, "known_hosts");
  writeFileSync(key, access.privateKey.endsWith("\n") ? access.privateKey : `${access.privateKey}\n`, {
    mode: 0o600,
  });
  writeFileSync(knownHosts, `${port === 22 ? host : `[${host}]:${port}`} ${access.hostKey}\n`);
  return {
    args: [...sshOptions({ host, port, user, keyPath: key, knownHostsPath: knownHosts }), "--", ...remote],
    dispose: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export interface HostStream {
  /** What the script writes to stdout. */
  readonly stdout: Readable;
  /** The script's exit code (255: the connection failed or dropped) and its stderr. */
  readonly result: Promise<{ code: number; stderr: string }>;
}

/**
 * Runs a script on the host with a data stream on each side: the script first
 * reads itself from stdin (exactly its length, so it never shows in a process
 * list), then `input`, if any, is the rest of its stdin; its stdout is
 * streamed back. For archives and dumps too large to hold in memory.
 */
export function hostStream(
  access: HostAccess,
  script: string,
  input?: Readable | Buffer,
  options: { timeoutMs?: number } = {},
): HostStream {
  const body = Buffer.from(script, "utf8");
  const session = sshSession(access, ["sh", "-c", `'eval "$(head -c ${body.length})"'`]);
  const child = spawn("ssh", session.args, { stdio: ["pipe", "pipe", "pipe"] });
  const err: Buffer[] = [];
  child.stderr.on("data", (c: Buffer) => err.push(c));
  const timer = setTimeout(() => child.kill("SIGTERM"), options.timeoutMs ?? 6 * 3600_000);
  const result = new Promise<{ code: number; stderr: string }>((resolve, reject) => {
    child.once("error", (e) => {
      clearTimeout(timer);
      session.dispose();
      reject(new HostShellError(`could not run ssh: ${e.message}`));
    });
    child.once("close", (code) => {
      clearTimeout(timer);
      session.dispose();
      resolve({ code: code ?? 255, stderr: Buffer.concat(err).toString("utf8") });
    });
  });
  // A dropped connection closes stdin under us: the exit code says so, not an EPIPE.
  child.stdin.on("error", () => undefined);
  child.stdin.write(body);
  if (input === undefined) child.stdin.end();
  else if (Buffer.isBuffer(input)) child.stdin.end(input);
  else {
    input.on("error", () => child.kill("SIGTERM"));
    input.pipe(child.stdin);
  }
  return { stdout: child.stdout, result };
}

/** A host script's options: its own time limit, and the operation's signal, which ends it at once. */
export interface HostScriptOptions {
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal | undefined;
}

export async function runHostScript(
  access: HostAccess,
  script: string,
  options: HostScriptOptions = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const { signal } = options;
  if (signal?.aborted) throw new HostShellError(`host script on ${access.url} cancelled before it started`);
  const session = sshSession(access, ["sh", "-s"]);
  try {
    const { args } = session;
    return await new Promise((resolve, reject) => {
      const child = spawn("ssh", args, { stdio: ["pipe", "pipe", "pipe"] });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      const timer = setTimeout(() => child.kill("SIGTERM"), options.timeoutMs ?? 120_000);
      // An operation cancelled or out of time must not wait on a slow or hung host.
      const abort = () => {
        child.kill("SIGTERM");
        reject(new HostShellError(`host script on ${access.url} cancelled`));
      };
      signal?.addEventListener("abort", abort, { once: true });
      child.stdout.on("data", (c: Buffer) => out.push(c));
      child.stderr.on("data", (c: Buffer) => err.push(c));
      child.once("error", (e) => reject(new HostShellError(`could not run ssh: ${e.message}`)));
      child.once("close", (code) => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", abort);
        resolve({
          code: code ?? 255,
          stdout: Buffer.concat(out).toString("utf8"),
          stderr: Buffer.concat(err).toString("utf8"),
        });
      });
      // The script travels on stdin: nothing of it shows in a process list on either side.
      child.stdin.end(script);
    });
  } finally {
    session.dispose();
  }
}

/**
 * Runs read-only Dokku commands in one session and returns each one's exit code
 * and output, framed by a random marker that no output can forge.
 */
export async function runDokkuReads(
  access: HostAccess,
  commands: readonly string[],
  options: HostScriptOptions = {},
): Promise<ProbeResult[]> {
  const { user } = sshTarget(access.url);
  const dokku = dokkuBinary(user);
  const marker = `@@mindroom-${randomBytes(8).toString("hex")}`;
  const lines = commands.map((c, i) => {
    const [word = "", ...args] = c.split(" ");
    const line = `${dokku} ${dokkuCommandLine(word, args, ["--quiet"])}`;
    return `printf '%s\\n' '${marker} ${i}'; ${line} 2>/dev/null; printf '\\n%s %s\\n' '${marker}-rc' "$?"`;
  });
  const result = await runHostScript(access, `${lines.join("\n")}\n`, options);
  if (result.code === 255) throw new HostShellError(`ssh to ${access.url} failed: ${result.stderr.trim()}`);
  const results: ProbeResult[] = [];
  const chunks = result.stdout.split(`${marker} `).slice(1);
  for (const chunk of chunks) {
    const newline = chunk.indexOf("\n");
    const body = chunk.slice(newline + 1);
    const rcAt = body.lastIndexOf(`\n${marker}-rc `);
    const code = Number(body.slice(rcAt + `\n${marker}-rc `.length).trim());
    results.push({ code: Number.isNaN(code) ? -1 : code, stdout: rcAt >= 0 ? body.slice(0, rcAt) : body });
  }
  if (results.length !== commands.length) {
    throw new HostShellError(`expected ${commands.length} results from ${access.url}, got ${results.length}`);
  }
  return results;
}
