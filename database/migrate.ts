/**
 * The migration runner: applies `supabase/migrations/*.sql` in file-name order,
 * each file in its own transaction, recording it in `public.schema_migrations`
 * (version = file name without `.sql`, sha256 checksum). Runners on several
 * processes are serialised by a Postgres advisory lock, so a platform and a
 * test starting together apply each file once. A file whose content changed
 * after it was applied is an error: write a new migration instead.
 *
 * On plain Postgres (not Supabase) the Supabase compatibility script runs
 * first, under the same lock.
 */
import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type pg from "pg";

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
/** `supabase/migrations` in this checkout. */
export const MIGRATIONS_DIR = join(ROOT, "supabase", "migrations");
const COMPAT_SCRIPT = join(ROOT, "database", "supabase-compat.sql");
/** Arbitrary but fixed: every runner against one database takes this advisory lock. */
const LOCK_KEY = 604_771_329_118;
const FILE_NAME = /^(\d{14}_[a-z0-9_]+)\.sql$/;

export interface MigrateOptions {
  /** Folder of `<14-digit timestamp>_<name>.sql` files (default: `supabase/migrations`). */
  readonly directory?: string;
  /**
   * Apply database/supabase-compat.sql first: `true` for the embedded Postgres,
   * `"auto"` (default) when the server is not Supabase's (no `supabase_admin` role).
   */
  readonly supabaseCompat?: boolean | "auto";
}

export interface MigrationResult {
  /** Versions applied by this run, in order. */
  readonly applied: readonly string[];
  /** Versions that were already applied. */
  readonly alreadyApplied: readonly string[];
}

export interface MigrationFile {
  readonly version: string;
  readonly path: string;
  readonly sql: string;
  readonly checksum: string;
}

export class MigrationError extends Error {
  override readonly name = "MigrationError";
  readonly version: string | undefined;
  constructor(message: string, options: { version?: string; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.version = options.version;
  }
}

export function checksum(sql: string): string {
  return createHash("sha256").update(sql).digest("hex");
}

/** The migration files in order; a file not named `<timestamp>_<name>.sql` is an error, not skipped. */
export function readMigrations(directory = MIGRATIONS_DIR): MigrationFile[] {
  return readdirSync(directory)
    .filter((name) => name.endsWith(".sql"))
    .sort()
    .map((name) => {
      const match = FILE_NAME.exec(name);
      if (!match?.[1])
        throw new MigrationError(
          `migration file ${join(directory, name)} must be named <14-digit timestamp>_<lowercase_name>.sql`,
        );
      const path = join(directory, name);
      const sql = readFileSync(path, "utf8");
      return { version: match[1], path, sql, checksum: checksum(sql) };
    });
}

/** "line N" of a Postgres error position (1-based character offset), for messages. */
function where(sql: string, error: unknown): string {
  const position = Number((error as { position?: string }).position);
  if (!Number.isInteger(position) || position < 1) return "";
  return ` (line ${sql.slice(0, position - 1).split("\n").length})`;
}

async function inTransaction(client: pg.PoolClient, run: () => Promise<void>): Promise<void> {
  await client.query("begin");
  try {
    await run();
    await client.query("commit");
  } catch (error) {
    await client.query("rollback");
    throw error;
  }
}

async function isSupabase(client: pg.PoolClient): Promise<boolean> {
  const { rows } = await client.query<{ supabase: boolean }>(
    "select to_regrole('supabase_admin') is not null as supabase",
  );
  return rows[0]?.supabase ?? false;
}

export async function migrate(pool: pg.Pool, options: MigrateOptions = {}): Promise<MigrationResult> {
  const files = readMigrations(options.directory);
  const client = await pool.connect();
  try {
    await client.query("select pg_advisory_lock($1)", [LOCK_KEY]);
    try {
      const compat = options.supabaseCompat ?? "auto";
      if (compat === true || (compat === "auto" && !(await isSupabase(client)))) {
        const sql = readFileSync(COMPAT_SCRIPT, "utf8");
        await inTransaction(client, async () => {
          await client.query(sql);
        }).catch((error: unknown) => {
          throw new MigrationError(
            `database/supabase-compat.sql failed${where(sql, error)}: ${(error as Error).message}`,
            { cause: error },
          );
        });
      }
      await client.query(`
        create table if not exists public.schema_migrations (
          version text primary key,
          checksum text not null,
          applied_at timestamptz not null default now()
        );
        -- In the API-exposed schema: RLS without policies keeps it private to the service role.
        alter table public.schema_migrations enable row level security;
      `);
      const { rows } = await client.query<{ version: string; checksum: string }>(
        "select version, checksum from public.schema_migrations",
      );
      const recorded = new Map(rows.map((row) => [row.version, row.checksum]));
      const applied: string[] = [];
      const alreadyApplied: string[] = [];
      for (const file of files) {
        const known = recorded.get(file.version);
        if (known !== undefined) {
          if (known !== file.checksum)
            throw new MigrationError(
              `migration ${file.version} was changed after it was applied (checksum ${file.checksum.slice(0, 12)}…, ` +
                `applied ${known.slice(0, 12)}…); restore ${file.path} and put the change in a new migration`,
              { version: file.version },
            );
          alreadyApplied.push(file.version);
          continue;
        }
        await inTransaction(client, async () => {
          await client.query(file.sql);
          await client.query("insert into public.schema_migrations (version, checksum) values ($1, $2)", [
            file.version,
            file.checksum,
          ]);
        }).catch((error: unknown) => {
          throw new MigrationError(
            `migration ${file.version} failed${where(file.sql, error)} and was rolled back: ${(error as Error).message}`,
            { version: file.version, cause: error },
          );
        });
        applied.push(file.version);
      }
      return { applied, alreadyApplied };
    } finally {
      await client.query("select pg_advisory_unlock($1)", [LOCK_KEY]).catch(() => undefined);
    }
  } finally {
    client.release();
  }
}
