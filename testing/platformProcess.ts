/**
 * `./platform start` (node platform.ts start) as a child process, for tests
 * that stop it or kill it the way the world does: its own data folder and
 * ports, its output kept, its processes found through /proc. Deliberately not
 * supervised: a tether around it would clean up after it and hide exactly what
 * these tests look for.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { LOCAL_HOST_POINTER } from "../automation/settings.ts";
import { RUN_MARKER } from "../processes/markers.ts";
import { environValue } from "../processes/procfs.ts";
import { type ProcessSnapshot, snapshotTree } from "./processTree.ts";

const ENTRY = join(import.meta.dirname, "..", "platform.ts");

/**
 * What the platform reads that would point it at something else than its embedded defaults
 * (or pin a port another platform on the machine may hold); removed unless the test sets it.
 */
const CONFIGURED_ELSEWHERE = [
  "DATABASE_URL",
  "STRIPE_API_BASE",
  "STRIPE_SECRET_KEY",
  "STRIPE_WEBHOOK_SECRET",
  "SUPABASE_URL",
  "SUPABASE_ANON_KEY",
  "SUPABASE_SERVICE_ROLE_KEY",
  "DOKKU_HOSTS",
  "DOKKU_SSH_KEY",
  "DOKKU_KNOWN_HOSTS",
  "SMTP_URL",
  "MAIL_FROM",
  "PORTAL_PUBLIC_URL",
  "AWS_ENDPOINT_URL_S3",
  "PULUMI_BACKEND_URL",
  "PULUMI_CONFIG_PASSPHRASE",
  "PULUMI_CONFIG_PASSPHRASE_FILE",
  "MINDROOM_ROOT_SECRET",
  "MINDROOM_METRICS_PORT",
  "PORTAL_METRICS_PORT",
  RUN_MARKER,
];

export interface PlatformProcess {
  readonly pid: number;
  readonly child: ChildProcess;
  /** Everything it printed so far (stdout and stderr). */
  output(): string;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Its run marker (`MINDROOM_RUN`), read from the environment of one of its children. */
  marker(): string | undefined;
  /** The platform and every process below it now. */
  tree(): ProcessSnapshot[];
}

export interface PlatformOptions {
  readonly dataDir: string;
  /** Environment on top of the test's own (ports, pool size…). */
  readonly env: Readonly<Record<string, string>>;
  readonly readyTimeoutMs?: number;
}

export async function startPlatform(options: PlatformOptions): Promise<PlatformProcess> {
  const env: NodeJS.ProcessEnv = { ...process.env, MINDROOM_DATA_DIR: options.dataDir, ...options.env };
  for (const name of CONFIGURED_ELSEWHERE) if (!(name in options.env)) delete env[name];
  const child = spawn(process.execPath, [ENTRY, "start"], { env, stdio: ["ignore", "pipe", "pipe"] });
  let text = "";
  const keep = (chunk: Buffer) => {
    text += chunk.toString();
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal })),
  );
  const pid = child.pid ?? 0;
  const deadline = Date.now() + (options.readyTimeoutMs ?? 240_000);
  while (!text.includes("Ctrl-C stops the platform")) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(`the platform exited before it was ready:\n${text}`);
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`the platform was not ready in time:\n${text}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    pid,
    child,
    output: () => text,
    exited,
    marker() {
      for (const p of snapshotTree(pid).slice(1)) {
        const value = environValue(p.pid, RUN_MARKER);
        if (value) return value;
      }
      return undefined;
    },
    tree: () => snapshotTree(pid),
  };
}

/** The local Dokku host the platform keeps for a data folder (platform.ts writes where). */
export function localHostDir(dataDir: string): string | undefined {
  const pointer = join(dataDir, LOCAL_HOST_POINTER);
  return existsSync(pointer) ? readFileSync(pointer, "utf8").trim() : undefined;
}

/** The embedded Postgres' superuser URL for a data folder (database/embedded.ts keeps port and password there). */
export function embeddedDatabaseUrl(dataDir: string): string {
  const port = readFileSync(join(dataDir, "postgres.port"), "utf8").trim();
  const password = readFileSync(join(dataDir, "postgres.password"), "utf8").trim();
  return `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`;
}
