import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import { emptyTestDatabase, type TestDatabase } from "../testing/database.ts";
import { checksum, MigrationError, migrate, readMigrations } from "./migrate.ts";

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

async function recorded(): Promise<{ version: string; checksum: string }[]> {
  const { rows } = await db.pool.query<{ version: string; checksum: string }>(
    "select version, checksum from public.schema_migrations order by applied_at, version",
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
  it("applies files in file-name order, records version and checksum, and skips them on the next run", async () => {
    // b depends on a: it only works in name order, whatever order the directory lists them in.
    write("20260101000002_b.sql", "insert into public.things (name) values ('from b');");
    write("20260101000001_a.sql", "create table public.things (name text not null);");
    const first = await migrate(db.pool, { directory: dir, supabaseCompat: false });
    expect(first.applied).toEqual(["20260101000001_a", "20260101000002_b"]);
    expect(await recorded()).toEqual([
      { version: "20260101000001_a", checksum: checksum("create table public.things (name text not null);") },
      {
        version: "20260101000002_b",
        checksum: checksum("insert into public.things (name) values ('from b');"),
      },
    ]);
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
    expect((error as MigrationError).version).toBe("20260101000001_a");
    expect((error as Error).message).toMatch(/was changed after it was applied.*new migration/);
    expect(await tableExists("public.others")).toBe(false);
    expect((await recorded()).map((r) => r.version)).toEqual(["20260101000001_a"]);
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
