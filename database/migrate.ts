/**
 * The migration runner: applies `supabase/migrations/*.sql` in file-name order,
 * each file in its own transaction, recording it where the Supabase CLI keeps
 * its history (`supabase_migrations.schema_migrations`: version = the 14-digit
 * timestamp, name = the rest of the file name, statements = the file's SQL), so
 * `supabase migration list` and `supabase db push` agree with it whichever of the
 * two applied a file. Runners on several processes are serialised by a Postgres
 * advisory lock, so a platform and a test starting together apply each file
 * once. A file whose SQL differs from what was applied is an error: write a new
 * migration instead.
 *
 * A database migrated before this kept its own history in
 * `public.schema_migrations` (version, sha256 checksum): the first run moves it
 * over (checking each file against its checksum) and drops the old table.
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
const FILE_NAME = /^((\d{14})_([a-z0-9_]+))\.sql$/;

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
  /** Migrations applied by this run, in order, as `<version>_<name>`. */
  readonly applied: readonly string[];
  /** Migrations that were already applied. */
  readonly alreadyApplied: readonly string[];
}

export interface MigrationFile {
  /** `<version>_<name>`: the file name without `.sql`. */
  readonly id: string;
  /** The 14-digit timestamp: the Supabase CLI's version. */
  readonly version: string;
  readonly name: string;
  readonly path: string;
  readonly sql: string;
  readonly checksum: string;
}

export class MigrationError extends Error {
  override readonly name = "MigrationError";
  /** The migration (`<version>_<name>`) it is about, if one. */
  readonly migration: string | undefined;
  constructor(message: string, options: { migration?: string; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.migration = options.migration;
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
      if (!match?.[1] || !match[2] || !match[3])
        throw new MigrationError(
          `migration file ${join(directory, name)} must be named <14-digit timestamp>_<lowercase_name>.sql`,
        );
      const path = join(directory, name);
      const sql = readFileSync(path, "utf8");
      return { id: match[1], version: match[2], name: match[3], path, sql, checksum: checksum(sql) };
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

/**
 * SQL compared for "is this what was applied": without comments, whitespace
 * and semicolons, so the file matches both our one-element `statements` and the
 * Supabase CLI's (it splits a file into statements and trims them).
 */
export function normalizedSql(statements: readonly string[]): string {
  return statements
    .join("\n")
    .replace(/--[^\n]*/g, "")
    .replace(/\/\*[\s\S]*?\*\//g, "")
    .replace(/[\s;]+/g, "");
}

/** The Supabase CLI's history table, created as the CLI creates it (pkg/migration/history.go). */
const HISTORY_TABLE = `
  create schema if not exists supabase_migrations;
  create table if not exists supabase_migrations.schema_migrations (version text not null primary key);
  alter table supabase_migrations.schema_migrations add column if not exists statements text[];
  alter table supabase_migrations.schema_migrations add column if not exists name text;
`;

/**
 * Moves the history an earlier runner kept in `public.schema_migrations`
 * (`<version>_<name>`, checksum) into the CLI's table, refusing a file changed
 * since, then drops the old table. A no-op once done.
 */
async function moveLegacyHistory(client: pg.PoolClient, files: readonly MigrationFile[]): Promise<void> {
  const { rows: legacy } = await client.query<{ found: boolean }>(
    "select to_regclass('public.schema_migrations') is not null as found",
  );
  if (!legacy[0]?.found) return;
  const byId = new Map(files.map((f) => [f.id, f]));
  await inTransaction(client, async () => {
    const { rows } = await client.query<{ version: string; checksum: string }>(
      "select version, checksum from public.schema_migrations order by version",
    );
    for (const row of rows) {
      const file = byId.get(row.version);
      if (file && file.checksum !== row.checksum)
        throw new MigrationError(
          `migration ${file.id} was changed after it was applied (checksum ${file.checksum.slice(0, 12)}…, ` +
            `applied ${row.checksum.slice(0, 12)}…); restore ${file.path} and put the change in a new migration`,
          { migration: file.id },
        );
      const [version = row.version, ...rest] = row.version.split("_");
      await client.query(
        `insert into supabase_migrations.schema_migrations (version, name, statements) values ($1, $2, $3)
         on conflict (version) do nothing`,
        [version, rest.join("_") || null, file ? [file.sql] : null],
      );
    }
    await client.query("drop table public.schema_migrations");
  });
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
      await client.query(HISTORY_TABLE);
      await moveLegacyHistory(client, files);
      const { rows } = await client.query<{ version: string; statements: string[] | null }>(
        "select version, statements from supabase_migrations.schema_migrations",
      );
      const recorded = new Map(rows.map((row) => [row.version, row.statements]));
      const applied: string[] = [];
      const alreadyApplied: string[] = [];
      for (const file of files) {
        if (recorded.has(file.version)) {
          // A history row without statements (e.g. `supabase migration repair`) cannot be checked.
          const statements = recorded.get(file.version);
          if (statements && normalizedSql(statements) !== normalizedSql([file.sql]))
            throw new MigrationError(
              `migration ${file.id} was changed after it was applied (its SQL differs from the statements ` +
                `recorded in supabase_migrations.schema_migrations); restore ${file.path} and put the change in a new migration`,
              { migration: file.id },
            );
          alreadyApplied.push(file.id);
          continue;
        }
        await inTransaction(client, async () => {
          await client.query(file.sql);
          await client.query(
            "insert into supabase_migrations.schema_migrations (version, name, statements) values ($1, $2, $3)",
            [file.version, file.name, [file.sql]],
          );
        }).catch((error: unknown) => {
          throw new MigrationError(
            `migration ${file.id} failed${where(file.sql, error)} and was rolled back: ${(error as Error).message}`,
            { migration: file.id, cause: error },
          );
        });
        applied.push(file.id);
      }
      return { applied, alreadyApplied };
    } finally {
      await client.query("select pg_advisory_unlock($1)", [LOCK_KEY]).catch(() => undefined);
    }
  } finally {
    client.release();
  }
}
