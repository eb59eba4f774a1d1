/**
 * The local mail server: Mailpit (built into the tools folder by
 * toolchain/ensure.sh), an SMTP server that keeps every message and shows it
 * in a web inbox with an API (`/api/v1/messages`). It is what `SMTP_URL`
 * means when unset, as the embedded Postgres is for `DATABASE_URL`: started
 * on demand, its messages and ports kept in `<data>/mailpit/`, and reused by
 * any later process while the one that started it runs.
 */
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { z } from "zod";
import { ADDRESS_IN_USE, preferredOrFreePort, startOnChosenPorts } from "../net/loopbackPort.ts";
import { type Supervised, supervise } from "../processes/supervisor.ts";

const ROOT = resolve(import.meta.dirname, "..");

export class MailpitError extends Error {
  override readonly name = "MailpitError";
}

export interface MailpitServer {
  /** `smtp://127.0.0.1:<port>` (no TLS, no authentication needed). */
  readonly smtpUrl: string;
  /** The web inbox, `http://127.0.0.1:<port>`; the API is under `/api/v1/`. */
  readonly webUrl: string;
  /** Whether this process started it (and `stop()` stops it). */
  readonly owned: boolean;
  stop(): Promise<void>;
}

export interface MailpitOptions {
  /** Where it keeps its database, ports, pid and log. */
  readonly dir: string;
  /** Keep messages in `<dir>/mailpit.db` across restarts (default true); false keeps them in memory. */
  readonly persistent?: boolean;
  /** Preferred ports (default 1025 and 8025, Mailpit's own); a busy one is replaced by a free one. */
  readonly smtpPort?: number;
  readonly httpPort?: number;
  /** Messages kept at most (default 5000; Mailpit drops the oldest). */
  readonly maxMessages?: number;
  /** The binary (default `.tools/mailpit/bin/mailpit`, or `MINDROOM_TOOLS_DIR`'s). */
  readonly binary?: string;
}

export function mailpitBinary(): string {
  const tools = process.env.MINDROOM_TOOLS_DIR || join(ROOT, ".tools");
  return join(tools, "mailpit", "bin", "mailpit");
}

const keptState = z.object({ pid: z.number().int(), smtpPort: z.number().int(), httpPort: z.number().int() });
type KeptState = z.infer<typeof keptState>;

function readState(file: string): KeptState | undefined {
  try {
    return keptState.parse(JSON.parse(readFileSync(file, "utf8")));
  } catch {
    return undefined;
  }
}

/** The process is alive and is a Mailpit serving this folder (pids get reused). */
function servesDir(pid: number, dir: string): boolean {
  try {
    const argv = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
    return argv.some((arg) => arg.endsWith("mailpit")) && argv.includes(dir);
  } catch {
    return false;
  }
}

function tail(path: string, lines = 15): string {
  if (!existsSync(path)) return "(no log)";
  return readFileSync(path, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
}

/** Mailpit exited before it was ready (a port taken between choosing it and binding it, or worse). */
class MailpitExitedError extends MailpitError {}

/** Ready when the Mailpit answering at `webUrl` is this one: its label is its folder. */
async function waitUntilReady(
  webUrl: string,
  label: string,
  mailpit: Supervised,
  log: string,
): Promise<void> {
  for (let attempt = 0; attempt < 300; attempt += 1) {
    if (!mailpit.running)
      throw new MailpitExitedError(
        `mailpit exited with ${mailpit.child.exitCode ?? mailpit.child.signalCode}; the end of ${log}:\n${tail(log)}`,
      );
    try {
      const info = await fetch(`${webUrl}/api/v1/webui`);
      if (info.ok && ((await info.json()) as { Label?: unknown }).Label === label) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((done) => setTimeout(done, 100));
  }
  throw new MailpitError(`mailpit did not become ready within 30 s; the end of ${log}:\n${tail(log)}`);
}

/**
 * Starts Mailpit for `dir`, or joins the one already serving it. If this
 * process started it, it is supervised: it stops when this process ends,
 * however it ends (processes/supervisor.ts).
 */
export async function startMailpit(options: MailpitOptions): Promise<MailpitServer> {
  const dir = resolve(options.dir);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const stateFile = join(dir, "mailpit.json");
  const running = readState(stateFile);
  if (running && servesDir(running.pid, dir)) {
    return {
      smtpUrl: `smtp://127.0.0.1:${running.smtpPort}`,
      webUrl: `http://127.0.0.1:${running.httpPort}`,
      owned: false,
      stop: async () => undefined,
    };
  }
  const binary = options.binary ?? mailpitBinary();
  if (!existsSync(binary))
    throw new MailpitError(
      `Mailpit is not built (${binary} is missing): run toolchain/ensure.sh, or set SMTP_URL to another SMTP server`,
    );
  const preferred = {
    smtp: options.smtpPort ?? running?.smtpPort ?? 1025,
    http: options.httpPort ?? running?.httpPort ?? 8025,
  };
  return startOnChosenPorts(
    (attempt) => launch(options, dir, binary, attempt === 0 ? preferred : { smtp: 0, http: 0 }),
    (error) => error instanceof MailpitExitedError && ADDRESS_IN_USE.test(error.message),
  );
}

async function launch(
  options: MailpitOptions,
  dir: string,
  binary: string,
  preferred: { readonly smtp: number; readonly http: number },
): Promise<MailpitServer> {
  const stateFile = join(dir, "mailpit.json");
  const smtpPort = await preferredOrFreePort(preferred.smtp);
  const httpPort = await preferredOrFreePort(preferred.http);
  const log = join(dir, "mailpit.log");
  const fd = openSync(log, "a", 0o600);
  let child: Supervised;
  try {
    child = supervise(
      "mailpit",
      binary,
      [
        "--smtp",
        `127.0.0.1:${smtpPort}`,
        "--listen",
        `127.0.0.1:${httpPort}`,
        // An empty database path keeps messages in memory (Mailpit's own temporary file).
        "--database",
        options.persistent === false ? "" : join(dir, "mailpit.db"),
        "--max",
        String(options.maxMessages ?? 5000),
        // Any credentials a production SMTP_URL would carry are accepted, over plain SMTP on loopback.
        "--smtp-auth-accept-any",
        "--smtp-auth-allow-insecure",
        "--disable-version-check",
        "--label",
        dir,
      ],
      {
        stdio: ["ignore", fd, fd],
        env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: dir },
        graceMs: 5_000,
      },
    );
  } finally {
    closeSync(fd);
  }
  const webUrl = `http://127.0.0.1:${httpPort}`;
  const stop = async () => {
    await child.stop();
    if (readState(stateFile)?.pid === child.pid) rmSync(stateFile, { force: true });
  };
  try {
    await waitUntilReady(webUrl, dir, child, log);
  } catch (error) {
    await stop();
    throw error;
  }
  // Its tether's pid: its command line names Mailpit and this folder too (servesDir).
  const kept: KeptState = { pid: child.pid, smtpPort, httpPort };
  writeFileSync(stateFile, JSON.stringify(kept), { mode: 0o600 });
  return { smtpUrl: `smtp://127.0.0.1:${smtpPort}`, webUrl, owned: true, stop };
}
