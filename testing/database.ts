/**
 * Real Postgres for tests, fast enough to give every test file its own database:
 * - `testing/globalSetup.ts` starts ONE embedded Postgres for the whole vitest run
 *   in a temp folder (removed at teardown) and hands its superuser URL to workers;
 *   `MINDROOM_TEST_DATABASE_URL=postgres://superuser@host/db` uses an existing
 *   server instead; without either (a file run under another config), the worker
 *   starts its own embedded Postgres on first use.
 * - The first `testDatabase()` builds a template database with the Supabase
 *   compatibility script and every migration applied (once per set of migration
 *   files, under an advisory lock, so parallel workers build it once); each call
 *   then clones it with `CREATE DATABASE … TEMPLATE`, which takes milliseconds.
 *
 * This module loads vitest only inside `testDatabase()`, so globalSetup can import it.
 */
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import type { TestProject } from "vitest/node";
import { startEmbeddedPostgres } from "../database/embedded.ts";
import { MIGRATIONS_DIR, migrate, readMigrations } from "../database/migrate.ts";

declare module "vitest" {
  export interface ProvidedContext {
    /** Superuser URL of the run's Postgres server, or null when it could not start (see postgresError). */
    postgresUrl: string | null;
    /** Why the run's Postgres is not available (empty when it is). */
    postgresError: string;
  }
}

export interface TestDatabase {
  /** Superuser URL of this test's own database (it bypasses RLS: use `withUser` for RLS checks). */
  readonly url: string;
  /** A pool on that database, as the superuser. */
  readonly pool: pg.Pool;
  /** The database's name. */
  readonly name: string;
  /** Closes the pool and drops the database. */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

export class TestDatabaseError extends Error {
  override readonly name = "TestDatabaseError";
}

/** Settings for a throwaway cluster: durability buys nothing in tests. */
const TEST_SERVER_SETTINGS = {
  fsync: "off",
  synchronous_commit: "off",
  full_page_writes: "off",
  max_connections: "300",
} as const;

interface TestServer {
  readonly url: string;
  /** The temp folder holding the cluster. */
  readonly dir: string;
  stop(): Promise<void>;
}

const TEST_CLUSTER_PREFIX = "mindroom-test-postgres-";

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function pidIn(file: string): number {
  try {
    return Number(readFileSync(file, "utf8").split("\n")[0]) || 0;
  } catch {
    return 0;
  }
}

/**
 * Removes the clusters of earlier runs that were killed before their teardown:
 * neither the process that started them nor their postmaster is alive, and they
 * are old enough not to be another run's cluster being initialised right now.
 */
function removeAbandonedClusters(now = Date.now()): void {
  for (const name of readdirSync(tmpdir())) {
    if (!name.startsWith(TEST_CLUSTER_PREFIX)) continue;
    const dir = join(tmpdir(), name);
    try {
      if (now - statSync(dir).mtimeMs < 10 * 60_000) continue;
      const owner = pidIn(join(dir, "postgres.owner"));
      const postmaster = pidIn(join(dir, "postgres", "postmaster.pid"));
      if ((owner && isAlive(owner)) || (postmaster && isAlive(postmaster))) continue;
      rmSync(dir, { recursive: true, force: true });
    } catch {
      // Gone already, or not ours to judge: leave it.
    }
  }
}

/** An embedded Postgres in a fresh temp folder, removed again by `stop()`. */
export async function startTestPostgres(): Promise<TestServer> {
  removeAbandonedClusters();
  const dir = mkdtempSync(join(tmpdir(), TEST_CLUSTER_PREFIX));
  try {
    const server = await startEmbeddedPostgres({ dataDir: dir, serverSettings: TEST_SERVER_SETTINGS });
    return {
      url: server.url,
      dir,
      async stop() {
        await server.stop();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

/**
 * For globalSetup: starts the run's Postgres and provides its URL (or the
 * reason it failed: suites that need it then fail with it, the rest still run).
 * Returns the teardown.
 */
export async function provideTestPostgres(project: TestProject): Promise<() => Promise<void>> {
  if (process.env.MINDROOM_TEST_DATABASE_URL) {
    project.provide("postgresUrl", null);
    project.provide("postgresError", "");
    return async () => undefined;
  }
  try {
    const server = await startTestPostgres();
    project.provide("postgresUrl", server.url);
    project.provide("postgresError", "");
    return () => server.stop();
  } catch (error) {
    project.provide("postgresUrl", null);
    project.provide("postgresError", (error as Error).message);
    return async () => undefined;
  }
}

/**
 * At process exit only synchronous work runs: signal the postmaster, wait
 * (sleeping, not spinning) until it is gone, then remove its folder, so rm
 * does not race the shutdown checkpoint.
 */
function stopSynchronously(dir: string): void {
  const pid = pidIn(join(dir, "postgres", "postmaster.pid"));
  const running = () => {
    try {
      // Our own child: once it exits it stays a zombie until we are gone, so look at its state.
      return !/^State:\s+[ZX]/m.test(readFileSync(`/proc/${pid}/status`, "utf8"));
    } catch {
      return false;
    }
  };
  if (pid && running()) {
    try {
      process.kill(pid, "SIGINT");
    } catch {
      // Already gone.
    }
    const sleeper = new Int32Array(new SharedArrayBuffer(4));
    for (let i = 0; i < 200 && running(); i += 1) Atomics.wait(sleeper, 0, 0, 50);
  }
  rmSync(dir, { recursive: true, force: true });
}

let ownServer: Promise<TestServer> | undefined;
let openDatabases = 0;

/**
 * A server this process started (outside vitest, e.g. a benchmark) is stopped with its last
 * database: its postmaster is a child process that would otherwise keep the process alive.
 */
async function stopOwnServerWhenUnused(): Promise<void> {
  if (openDatabases > 0 || !ownServer) return;
  const server = await ownServer;
  ownServer = undefined;
  templates.clear();
  await server.stop();
}

/** The superuser URL of the server tests use (see the module comment for how it is chosen). */
export async function testServerUrl(): Promise<string> {
  const external = process.env.MINDROOM_TEST_DATABASE_URL?.trim();
  if (external) return external;
  const { inject } = await import("vitest");
  let provided: string | null | undefined;
  let reason = "";
  try {
    provided = inject("postgresUrl");
    reason = inject("postgresError");
  } catch {
    provided = undefined; // not under vitest's globalSetup
  }
  if (provided) return provided;
  if (reason) throw new TestDatabaseError(`the test run's Postgres did not start: ${reason}`);
  if (!ownServer) {
    ownServer = startTestPostgres();
    const server = await ownServer;
    process.once("exit", () => stopSynchronously(server.dir));
  }
  return (await ownServer).url;
}

/** `url` with its database replaced by `database`. */
export function databaseUrl(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

/** Fingerprint of everything the template contains: a changed migration builds a new template. */
function templateName(): string {
  const hash = createHash("sha256");
  hash.update(readFileSync(new URL("../database/supabase-compat.sql", import.meta.url)));
  for (const file of readMigrations(MIGRATIONS_DIR)) hash.update(`${file.id}:${file.checksum}\n`);
  return `mindroom_template_${hash.digest("hex").slice(0, 16)}`;
}

const TEMPLATE_LOCK = 604_771_329_119;
const templates = new Map<string, Promise<string>>();

async function adminQuery<T>(serverUrl: string, run: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: databaseUrl(serverUrl, "postgres") });
  await client.connect();
  try {
    return await run(client);
  } finally {
    await client.end();
  }
}

/** Builds the migrated template once per server and set of migrations; parallel workers wait for the first. */
function migratedTemplate(serverUrl: string): Promise<string> {
  const name = templateName();
  const key = `${serverUrl}#${name}`;
  let pending = templates.get(key);
  if (!pending) {
    pending = adminQuery(serverUrl, async (admin) => {
      await admin.query("select pg_advisory_lock($1)", [TEMPLATE_LOCK]);
      try {
        const { rowCount } = await admin.query("select 1 from pg_database where datname = $1", [name]);
        if (rowCount) return name;
        // Built under a temporary name and renamed when complete: a crashed build is never cloned.
        const building = `${name}_building_${randomBytes(4).toString("hex")}`;
        await admin.query(`create database ${building}`);
        const pool = new pg.Pool({ connectionString: databaseUrl(serverUrl, building), max: 1 });
        try {
          await migrate(pool, { supabaseCompat: true });
        } finally {
          await pool.end();
        }
        await admin.query(`alter database ${building} rename to ${name}`);
        return name;
      } finally {
        await admin.query("select pg_advisory_unlock($1)", [TEMPLATE_LOCK]);
      }
    });
    templates.set(key, pending);
    pending.catch(() => templates.delete(key));
  }
  return pending;
}

async function createDatabase(serverUrl: string, template: string | undefined): Promise<TestDatabase> {
  const name = `test_${randomBytes(6).toString("hex")}`;
  await adminQuery(serverUrl, (admin) =>
    admin.query(`create database ${name}${template ? ` template ${template}` : ""}`),
  );
  const url = databaseUrl(serverUrl, name);
  const pool = new pg.Pool({ connectionString: url, max: 10 });
  pool.on("error", () => undefined);
  let closed = false;
  openDatabases += 1;
  const close = async () => {
    if (closed) return;
    closed = true;
    await pool.end();
    await adminQuery(serverUrl, (admin) => admin.query(`drop database if exists ${name} with (force)`));
    openDatabases -= 1;
    await stopOwnServerWhenUnused();
  };
  return { url, pool, name, close, [Symbol.asyncDispose]: close };
}

/** A fresh database with the Supabase compatibility script and all migrations applied. */
export async function testDatabase(): Promise<TestDatabase> {
  const serverUrl = await testServerUrl();
  return createDatabase(serverUrl, await migratedTemplate(serverUrl));
}

/** A fresh, empty database (no compatibility script, no migrations): for migration-runner tests. */
export async function emptyTestDatabase(): Promise<TestDatabase> {
  return createDatabase(await testServerUrl(), undefined);
}
