/**
 * Opens the platform database: `DATABASE_URL` when set, otherwise the embedded
 * Postgres in the data folder (started here, stopped by `close()` if this call
 * started it). Migrations are applied before the pool is handed out, so callers
 * always see the current schema.
 */
import pg from "pg";
import { startEmbeddedPostgres } from "./embedded.ts";
import { type MigrationResult, migrate } from "./migrate.ts";
import type { DatabaseSettings } from "./settings.ts";

/** What repositories take: a pool, or one client (e.g. inside a transaction). */
export type Queryable = pg.Pool | pg.PoolClient;

export interface Database {
  readonly pool: pg.Pool;
  /** The connection URL (holds a password: never log it). */
  readonly url: string;
  /** True when this is the embedded Postgres. */
  readonly embedded: boolean;
  readonly migrations: MigrationResult;
  /** Closes the pool, then stops the embedded Postgres if this process started it. */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

export interface OpenDatabaseOptions {
  /** Connections in the pool (default 10). */
  readonly maxConnections?: number;
  /** Skip migrations (for tools that only read). */
  readonly migrate?: boolean;
}

export async function openDatabase(
  settings: DatabaseSettings,
  options: OpenDatabaseOptions = {},
): Promise<Database> {
  const server = settings.databaseUrl
    ? undefined
    : await startEmbeddedPostgres({ dataDir: settings.dataDir });
  const url = settings.databaseUrl ?? (server?.url as string);
  const pool = new pg.Pool({ connectionString: url, max: options.maxConnections ?? 10 });
  // An idle client losing its connection (server restart) must not crash the process.
  pool.on("error", () => undefined);
  const close = async () => {
    await pool.end();
    await server?.stop();
  };
  try {
    const migrations =
      options.migrate === false
        ? { applied: [], alreadyApplied: [] }
        : await migrate(pool, { supabaseCompat: server ? true : "auto" });
    return { pool, url, embedded: server !== undefined, migrations, close, [Symbol.asyncDispose]: close };
  } catch (error) {
    await close();
    throw error;
  }
}
