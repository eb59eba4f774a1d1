import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import { emptyTestDatabase, type TestDatabase } from "../testing/database.ts";
import { checksum, MigrationError, migrate, normalizedSql, readMigrations } from "./migrate.ts";

let db: TestDatabase;
let dir: string;
const dirs: string[] = [];

beforeEach(async () => {
  db = await emptyTestDatabase();
  dir = mkdtempSync(join(tmpdir(), "mindroom-migrations-"));
  dirs.push(dir);
});
afterEach(async () => {
  await db.close();
});
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function write(name: string, sql: string): void {
  writeFileSync(join(dir, name), sql);
}

/** The history as the Supabase CLI reads it (`supabase migration list`: pkg/migration/history.go). */
async function recorded(): Promise<{ version: string; name: string; statements: string[] | null }[]> {
  const { rows } = await db.pool.query<{ version: string; name: string; statements: string[] | null }>(
    "select version, coalesce(name, '') as name, statements from supabase_migrations.schema_migrations order by version",
  );
  return rows;
}

async function tableExists(name: string): Promise<boolean> {
  const { rows } = await db.pool.query<{ found: boolean }>("select to_regclass($1) is not null as found", [
    name,
  ]);
  return rows[0]?.found ?? false;
}

describe("migrate", () => {
  it("applies files in file-name order, records them where the Supabase CLI looks, and skips them on the next run", async () => {
    // b depends on a: it only works in name order, whatever order the directory lists them in.
    write("20260101000002_b.sql", "insert into public.things (name) values ('from b');");
    write("20260101000001_a.sql", "create table public.things (name text not null);");
    const first = await migrate(db.pool, { directory: dir, supabaseCompat: false });
    expect(first.applied).toEqual(["20260101000001_a", "20260101000002_b"]);
    expect(await recorded()).toEqual([
      {
        version: "20260101000001",
        name: "a",
        statements: ["create table public.things (name text not null);"],
      },
      {
        version: "20260101000002",
        name: "b",
        statements: ["insert into public.things (name) values ('from b');"],
      },
    ]);
    // The table has exactly the CLI's shape, so `supabase migration list` and `db push` read it.
    const { rows: columns } = await db.pool.query(
      `select column_name, data_type, is_nullable from information_schema.columns
       where table_schema = 'supabase_migrations' and table_name = 'schema_migrations' order by ordinal_position`,
    );
    expect(columns).toEqual([
      { column_name: "version", data_type: "text", is_nullable: "NO" },
      { column_name: "statements", data_type: "ARRAY", is_nullable: "YES" },
      { column_name: "name", data_type: "text", is_nullable: "YES" },
    ]);
    expect(await tableExists("public.schema_migrations")).toBe(false);
    const second = await migrate(db.pool, { directory: dir, supabaseCompat: false });
    expect(second).toEqual({ applied: [], alreadyApplied: ["20260101000001_a", "20260101000002_b"] });
    const { rows } = await db.pool.query("select name from public.things");
    expect(rows).toEqual([{ name: "from b" }]);
  });

  it("refuses to run when an applied file was changed, and applies nothing after it", async () => {
    write("20260101000001_a.sql", "create table public.things (name text);");
    await migrate(db.pool, { directory: dir, supabaseCompat: false });
    write("20260101000001_a.sql", "create table public.things (name text, extra int);");
    write("20260101000002_b.sql", "create table public.others (id int);");
    const error = await migrate(db.pool, { directory: dir, supabaseCompat: false }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MigrationError);
    expect((error as MigrationError).migration).toBe("20260101000001_a");
    expect((error as Error).message).toMatch(/was changed after it was applied.*new migration/);
    expect(await tableExists("public.others")).toBe(false);
    expect((await recorded()).map((r) => r.version)).toEqual(["20260101000001"]);
  });

  it("accepts what the Supabase CLI applied (its statements split and trimmed) and applies only the rest", async () => {
    write(
      "20260101000001_a.sql",
      "-- things\ncreate table public.things (name text);\n\ninsert into public.things values ('a');\n",
    );
    write("20260101000002_b.sql", "create table public.others (id int);");
    // As `supabase db push` leaves it: the schema changed, the history row with split statements.
    await db.pool.query("create table public.things (name text); insert into public.things values ('a')");
    await db.pool.query(`
      create schema supabase_migrations;
      create table supabase_migrations.schema_migrations (version text not null primary key, statements text[], name text);
      insert into supabase_migrations.schema_migrations values
        ('20260101000001', array['create table public.things (name text)', 'insert into public.things values (''a'')'], 'a');`);
    const result = await migrate(db.pool, { directory: dir, supabaseCompat: false });
    expect(result).toEqual({ applied: ["20260101000002_b"], alreadyApplied: ["20260101000001_a"] });
    expect((await recorded()).map((r) => [r.version, r.name])).toEqual([
      ["20260101000001", "a"],
      ["20260101000002", "b"],
    ]);
    expect(normalizedSql(["select 1; -- x\n", "select 2"])).toBe(normalizedSql(["select 1", "select 2;"]));
  });

  it("moves the history of the runner's old table over, checking each file, and drops the old table", async () => {
    write("20260101000001_a.sql", "create table public.things (name text);");
    write("20260101000002_b_c.sql", "create table public.others (id int);");
    write("20260101000003_d.sql", "create table public.thirds (id int);");
    // A database migrated by the earlier runner: its own table, a and b_c applied.
    await db.pool.query(`
      create table public.things (name text); create table public.others (id int);
      create table public.schema_migrations (version text primary key, checksum text not null, applied_at timestamptz not null default now());
      insert into public.schema_migrations (version, checksum) values
        ('20260101000001_a', '${checksum("create table public.things (name text);")}'),
        ('20260101000002_b_c', '${checksum("create table public.others (id int);")}');`);
    const result = await migrate(db.pool, { directory: dir, supabaseCompat: false });
    expect(result).toEqual({
      applied: ["20260101000003_d"],
      alreadyApplied: ["20260101000001_a", "20260101000002_b_c"],
    });
    expect(await recorded()).toEqual([
      { version: "20260101000001", name: "a", statements: ["create table public.things (name text);"] },
      { version: "20260101000002", name: "b_c", statements: ["create table public.others (id int);"] },
      { version: "20260101000003", name: "d", statements: ["create table public.thirds (id int);"] },
    ]);
    expect(await tableExists("public.schema_migrations")).toBe(false);
    expect((await migrate(db.pool, { directory: dir, supabaseCompat: false })).applied).toEqual([]);
  });

  it("refuses to move an old history whose file changed since, leaving it in place", async () => {
    write("20260101000001_a.sql", "create table public.things (name text, extra int);");
    await db.pool.query(`
      create table public.things (name text);
      create table public.schema_migrations (version text primary key, checksum text not null, applied_at timestamptz not null default now());
      insert into public.schema_migrations (version, checksum) values ('20260101000001_a', '${checksum("create table public.things (name text);")}');`);
    const error = await migrate(db.pool, { directory: dir, supabaseCompat: false }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MigrationError);
    expect((error as Error).message).toMatch(/20260101000001_a was changed after it was applied/);
    expect(await tableExists("public.schema_migrations")).toBe(true);
    expect(await recorded()).toEqual([]);
  });

  it("rolls a failing migration back completely and leaves the version table unchanged", async () => {
    write("20260101000001_a.sql", "create table public.things (name text);");
    await migrate(db.pool, { directory: dir, supabaseCompat: false });
    const before = await recorded();
    write(
      "20260101000002_bad.sql",
      "create table public.half_done (id int);\ninsert into public.things values ('x');\nselect 1/0;\n",
    );
    const error = await migrate(db.pool, { directory: dir, supabaseCompat: false }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MigrationError);
    expect((error as Error).message).toBe(
      "migration 20260101000002_bad failed and was rolled back: division by zero",
    );
    expect(await tableExists("public.half_done")).toBe(false);
    expect((await db.pool.query("select * from public.things")).rowCount).toBe(0);
    expect(await recorded()).toEqual(before);
  });

  it("names the line of a syntax error", async () => {
    write("20260101000001_typo.sql", "create table public.a (id int);\n\ncreate tabel public.b (id int);\n");
    await expect(migrate(db.pool, { directory: dir, supabaseCompat: false })).rejects.toThrow(
      /20260101000001_typo failed \(line 3\) and was rolled back: syntax error at or near "tabel"/,
    );
    expect(await tableExists("public.a")).toBe(false);
  });

  it("serialises concurrent runners with the advisory lock: each file runs once", async () => {
    // Not idempotent and slow: without the lock, the second runner would apply it again and fail.
    write(
      "20260101000001_slow.sql",
      "select pg_sleep(0.3);\ncreate table public.once (id int);\ninsert into public.once values (1);",
    );
    const pools = [1, 2, 3].map(() => new pg.Pool({ connectionString: db.url, max: 1 }));
    try {
      const results = await Promise.all(
        pools.map((pool) => migrate(pool, { directory: dir, supabaseCompat: false })),
      );
      expect(results.filter((r) => r.applied.length === 1)).toHaveLength(1);
      expect(results.filter((r) => r.alreadyApplied.length === 1)).toHaveLength(2);
      expect((await db.pool.query("select * from public.once")).rowCount).toBe(1);
    } finally {
      await Promise.all(pools.map((pool) => pool.end()));
    }
  });

  it("refuses a file that is not named <timestamp>_<name>.sql instead of silently skipping it", () => {
    write("20260101000001_a.sql", "select 1;");
    write("add-things.sql", "select 1;");
    expect(() => readMigrations(dir)).toThrow(
      /add-things\.sql must be named <14-digit timestamp>_<lowercase_name>\.sql/,
    );
  });

  it("applies the Supabase compatibility script and the real migrations to a plain Postgres, twice without harm", async () => {
    const first = await migrate(db.pool, { supabaseCompat: "auto" });
    expect(first.applied).toContain("20261129000100_platform");
    const second = await migrate(db.pool, { supabaseCompat: "auto" });
    expect(second.applied).toEqual([]);
    const { rows } = await db.pool.query<{ roles: string[] }>(
      `select array_agg(rolname::text order by rolname) as roles from pg_roles
       where rolname in ('anon', 'authenticated', 'service_role', 'authenticator')`,
    );
    expect(rows[0]?.roles).toEqual(["anon", "authenticated", "authenticator", "service_role"]);
    const bypass = await db.pool.query("select rolbypassrls from pg_roles where rolname = 'service_role'");
    expect(bypass.rows).toEqual([{ rolbypassrls: true }]);
  });

  it("auth.uid(), auth.role(), auth.email() and auth.jwt() read the claims the way Supabase's do", async () => {
    await migrate(db.pool, { supabaseCompat: true });
    const client = await db.pool.connect();
    try {
      await client.query("begin");
      const claims = {
        sub: "8d3c1b7e-3f0e-4a51-9d2a-0c1f3f1e2a10",
        role: "authenticated",
        email: "a@example.com",
      };
      await client.query("select set_config('request.jwt.claims', $1, true)", [JSON.stringify(claims)]);
      const { rows } = await client.query(
        "select auth.uid()::text as uid, auth.role() as role, auth.email() as email, auth.jwt() ->> 'sub' as sub",
      );
      expect(rows[0]).toEqual({
        uid: claims.sub,
        role: "authenticated",
        email: claims.email,
        sub: claims.sub,
      });
      // The older per-claim setting wins, as in Supabase's definition.
      await client.query("select set_config('request.jwt.claim.sub', $1, true)", [
        "00000000-0000-0000-0000-000000000001",
      ]);
      const legacy = await client.query("select auth.uid()::text as uid");
      expect(legacy.rows[0]).toEqual({ uid: "00000000-0000-0000-0000-000000000001" });
      await client.query("rollback");
      const none = await client.query("select auth.uid() as uid, auth.jwt() as jwt");
      expect(none.rows[0]).toEqual({ uid: null, jwt: null });
    } finally {
      client.release();
    }
  });
});
