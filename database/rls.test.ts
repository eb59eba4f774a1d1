/**
 * Row-level security on the real Postgres, through `withUser` (role
 * `authenticated`/`anon` with JWT claims, as Supabase's API runs queries).
 * The test pool itself is a superuser, which bypasses RLS: every check that
 * matters switches role, and the last describe proves the checks would catch a
 * leak by breaking the policies on purpose.
 */
import { randomUUID } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type TestDatabase, testDatabase } from "../testing/database.ts";
import { type JwtClaims, withUser } from "./asUser.ts";

interface Fixture {
  users: { a: string; b: string; operator: string };
  customers: { a: string; b: string; spare: string };
  instances: { a: string; b: string };
  /** Primary keys (as text) of the rows each customer owns, per table. */
  rows: Record<TableName, { a: string[]; b: string[]; other: string[] }>;
}

const TABLES = [
  "customers",
  "subscriptions",
  "instances",
  "operations",
  "stripe_events",
  "audit_log",
  "usage",
  "email_outbox",
  "operators",
  "hosts",
  "operator_requests",
] as const;
type TableName = (typeof TABLES)[number];

/** Each table's primary key as text, to tell rows apart. */
const KEY: Record<TableName, string> = {
  customers: "id::text",
  subscriptions: "id",
  instances: "id::text",
  operations: "id::text",
  stripe_events: "id",
  audit_log: "id::text",
  usage: "instance_id::text || '/' || day::text",
  email_outbox: "id::text",
  operators: "user_id::text",
  hosts: "url",
  operator_requests: "id::text",
};

/** A harmless column to try to change in an update. */
const UPDATE: Record<TableName, string> = {
  customers: "email = 'taken@evil.test'",
  subscriptions: "status = 'active'",
  instances: "desired_state = 'deleted'",
  operations: "status = 'cancelled'",
  stripe_events: "processed_at = now()",
  audit_log: "reason = 'rewritten'",
  usage: "messages = 0",
  email_outbox: "status = 'sent', sent_at = now()",
  operators: "created_at = now()",
  hosts: "address = '203.0.113.66'",
  operator_requests: "status = 'failed', error = 'x', finished_at = now()",
};

/** A valid new row for the table, attributed to customer A (or, for operators, making A an operator). */
function insertForA(f: Fixture, table: TableName): [string, unknown[]] {
  switch (table) {
    case "customers":
      return [
        "insert into public.customers (stripe_customer_id, email) values ('cus_new', 'a2@example.com')",
        [],
      ];
    case "subscriptions":
      return [
        `insert into public.subscriptions (id, customer_id, stripe_customer_id, status, last_synced_at)
         values ('sub_new', $1, 'cus_a', 'active', now())`,
        [f.customers.a],
      ];
    case "instances":
      return [
        "insert into public.instances (customer_id, slug, tier, desired_state) values ($1, 'new-slug', 'free', 'running')",
        [f.customers.spare],
      ];
    case "operations":
      return [
        `insert into public.operations (instance_id, kind, "trigger", status) values ($1, 'up', 'customer', 'queued')`,
        [f.instances.a],
      ];
    case "stripe_events":
      return [
        "insert into public.stripe_events (id, type, customer_id, payload) values ('evt_new', 'x', 'cus_a', '{}')",
        [],
      ];
    case "audit_log":
      return [
        "insert into public.audit_log (actor, customer_id, action) values ('customer:a@example.com', $1, 'x')",
        [f.customers.a],
      ];
    case "usage":
      return [
        "insert into public.usage (instance_id, day, messages) values ($1, '2026-01-01', 1)",
        [f.instances.a],
      ];
    case "email_outbox":
      return [
        `insert into public.email_outbox (id, customer_id, kind, event_key, recipient)
         values (gen_random_uuid(), $1, 'welcome', 'x', 'a@example.com')`,
        [f.customers.a],
      ];
    case "operators":
      return ["insert into public.operators (user_id) values ($1)", [f.users.a]];
    case "operator_requests":
      return [
        "insert into public.operator_requests (instance_id, kind, requested_by) values ($1, 'preview', 'customer:a@example.com')",
        [f.instances.a],
      ];
    case "hosts":
      return [
        "insert into public.hosts (url, address, memory_mb, cpus, added_by) values ('ssh://root@evil.test:22', '203.0.113.66', 1024, 1, 'customer:a@example.com')",
        [],
      ];
  }
}

async function buildFixture(pool: pg.Pool): Promise<Fixture> {
  const user = async (email: string) => {
    const id = randomUUID();
    await pool.query("insert into auth.users (id, email) values ($1, $2)", [id, email]);
    return id;
  };
  const users = {
    a: await user("a@example.com"),
    b: await user("b@example.com"),
    operator: await user("ops@example.com"),
  };
  await pool.query("insert into public.operators (user_id) values ($1)", [users.operator]);
  const customer = async (userId: string | null, stripeId: string) =>
    (
      await pool.query<{ id: string }>(
        "insert into public.customers (user_id, stripe_customer_id) values ($1, $2) returning id",
        [userId, stripeId],
      )
    ).rows[0]?.id as string;
  const customers = {
    a: await customer(users.a, "cus_a"),
    b: await customer(users.b, "cus_b"),
    spare: await customer(null, "cus_spare"),
  };
  const perCustomer = async (key: "a" | "b") => {
    const c = customers[key];
    await pool.query(
      `insert into public.subscriptions (id, customer_id, stripe_customer_id, status, last_synced_at)
       values ($1, $2, $3, 'active', now())`,
      [`sub_${key}`, c, `cus_${key}`],
    );
    const instance = (
      await pool.query<{ id: string }>(
        "insert into public.instances (customer_id, slug, tier, desired_state) values ($1, $2, 'starter', 'running') returning id",
        [c, `tenant-${key}`],
      )
    ).rows[0]?.id as string;
    const operation = (
      await pool.query<{ id: string }>(
        `insert into public.operations (instance_id, kind, "trigger", status) values ($1, 'up', 'stripe', 'succeeded') returning id`,
        [instance],
      )
    ).rows[0]?.id as string;
    await pool.query(
      "insert into public.stripe_events (id, type, customer_id, payload) values ($1, 'customer.subscription.created', $2, '{}')",
      [`evt_${key}`, `cus_${key}`],
    );
    const audit = (
      await pool.query<{ id: string }>(
        "insert into public.audit_log (actor, customer_id, instance_id, action) values ('stripe', $1, $2, 'subscription.created') returning id::text",
        [c, instance],
      )
    ).rows[0]?.id as string;
    await pool.query("insert into public.usage (instance_id, day, agents) values ($1, '2026-11-29', 1)", [
      instance,
    ]);
    const email = (
      await pool.query<{ id: string }>(
        `insert into public.email_outbox (id, customer_id, instance_id, kind, event_key, recipient)
         values (gen_random_uuid(), $1, $2, 'welcome', $3, $4) returning id::text`,
        [c, instance, `welcome-${key}`, `${key}@example.com`],
      )
    ).rows[0]?.id as string;
    return { instance, operation, audit, email };
  };
  const a = await perCustomer("a");
  const b = await perCustomer("b");
  await pool.query(
    "insert into public.hosts (url, address, memory_mb, cpus, added_by) values ('ssh://root@dokku-1.example.com:22', '203.0.113.10', 65536, 16, 'operator:ops')",
  );
  const request = (
    await pool.query<{ id: string }>(
      "insert into public.operator_requests (instance_id, kind, requested_by) values ($1, 'outputs', 'operator:ops@example.com') returning id::text",
      [a.instance],
    )
  ).rows[0]?.id as string;
  const split = (forA: string, forB: string, other: string[] = []) => ({ a: [forA], b: [forB], other });
  return {
    users,
    customers,
    instances: { a: a.instance, b: b.instance },
    rows: {
      customers: split(customers.a, customers.b, [customers.spare]),
      subscriptions: split("sub_a", "sub_b"),
      instances: split(a.instance, b.instance),
      operations: split(a.operation, b.operation),
      // Stripe events are operator-only: a customer sees none, even their own.
      stripe_events: { a: [], b: [], other: ["evt_a", "evt_b"] },
      audit_log: split(a.audit, b.audit),
      usage: split(`${a.instance}/2026-11-29`, `${b.instance}/2026-11-29`),
      email_outbox: split(a.email, b.email),
      operators: { a: [], b: [], other: [users.operator] },
      // Hosts are operator-only: customers never learn the fleet.
      hosts: { a: [], b: [], other: ["ssh://root@dokku-1.example.com:22"] },
      // Operators' requests are theirs: not even the tenant's customer sees them.
      operator_requests: { a: [], b: [], other: [request] },
    },
  };
}

function all(f: Fixture, table: TableName): string[] {
  const r = f.rows[table];
  return [...r.a, ...r.b, ...r.other].sort();
}

async function visible(pool: pg.Pool, claims: JwtClaims, table: TableName): Promise<string[]> {
  return withUser(pool, claims, async (client) => {
    const { rows } = await client.query<{ key: string }>(`select ${KEY[table]} as key from public.${table}`);
    return rows.map((row) => row.key).sort();
  });
}

/** rowCount of a statement run as `claims`, rolled back so the fixture stays intact for the next check. */
async function affected(pool: pg.Pool, claims: JwtClaims, sql: string): Promise<number | null> {
  const rollback = new Error("rollback");
  let count: number | null = null;
  await withUser(pool, claims, async (client) => {
    count = (await client.query(sql)).rowCount;
    throw rollback;
  }).catch((error: unknown) => {
    if (error !== rollback) throw error;
  });
  return count;
}

/** The error message of a statement run as `claims` that must fail with insufficient privilege (42501). */
async function refused(
  pool: pg.Pool,
  claims: JwtClaims,
  sql: string,
  params: unknown[] = [],
): Promise<string> {
  const error = await withUser(pool, claims, (client) => client.query(sql, params)).then(
    () => undefined,
    (e: unknown) => e as { code?: string; message?: string },
  );
  if (error?.code !== "42501")
    throw new Error(`${sql} as ${claims.role} was not refused: ${JSON.stringify(error)}`);
  return error.message ?? "";
}

async function superuserKeys(pool: pg.Pool, table: TableName): Promise<string[]> {
  const { rows } = await pool.query<{ key: string }>(`select ${KEY[table]} as key from public.${table}`);
  return rows.map((row) => row.key).sort();
}

let db: TestDatabase;
let f: Fixture;
let asA: JwtClaims;
let asOperator: JwtClaims;
const anon: JwtClaims = { role: "anon" };

beforeAll(async () => {
  db = await testDatabase();
  f = await buildFixture(db.pool);
  asA = { sub: f.users.a, role: "authenticated", email: "a@example.com" };
  asOperator = { sub: f.users.operator, role: "authenticated", email: "ops@example.com" };
});
afterAll(async () => {
  await db?.close();
});

describe("the test connection", () => {
  it("is a superuser that bypasses RLS, so RLS checks must switch role, and withUser does", async () => {
    const { rows } = await db.pool.query<{ su: boolean }>(
      "select rolsuper as su from pg_roles where rolname = current_user",
    );
    expect(rows[0]?.su).toBe(true);
    expect(await superuserKeys(db.pool, "customers")).toEqual(all(f, "customers"));
    const inside = await withUser(db.pool, asA, async (client) => {
      const r = await client.query<{ user: string; su: boolean; bypass: boolean; uid: string }>(
        `select current_user as user, rolsuper as su, rolbypassrls as bypass, auth.uid()::text as uid
         from pg_roles where rolname = current_user`,
      );
      return r.rows[0];
    });
    expect(inside).toEqual({ user: "authenticated", su: false, bypass: false, uid: f.users.a });
    expect(
      await withUser(db.pool, anon, async (c) => (await c.query("select current_user as u")).rows[0]),
    ).toEqual({
      u: "anon",
    });
  });

  it("leaves no role or claims behind on the pooled connection", async () => {
    const single = new pg.Pool({ connectionString: db.url, max: 1 });
    try {
      await withUser(single, asA, async (client) => client.query("select 1"));
      await expect(withUser(single, asA, async () => Promise.reject(new Error("boom")))).rejects.toThrow(
        "boom",
      );
      const { rows } = await single.query("select current_user as u, auth.uid() as uid");
      expect(rows[0]).toEqual({ u: "postgres", uid: null });
    } finally {
      await single.end();
    }
  });

  it("refuses a sub that is not a user id instead of querying with it", async () => {
    await expect(withUser(db.pool, { sub: "' or 1=1 --" }, async () => 1)).rejects.toThrow(
      /must be a user id/,
    );
  });

  it("cannot be lifted to service_role by a role claim", async () => {
    const role = await withUser(db.pool, { sub: f.users.a, role: "service_role" }, async (c) => {
      return (await c.query<{ u: string }>("select current_user as u")).rows[0]?.u;
    });
    expect(role).toBe("authenticated");
  });
});

describe("every table in the public schema", () => {
  it("has row-level security enabled", async () => {
    const { rows } = await db.pool.query<{ table: string }>(
      `select c.relname as table from pg_class c join pg_namespace n on n.oid = c.relnamespace
       where n.nspname = 'public' and c.relkind in ('r', 'p') and not c.relrowsecurity`,
    );
    expect(rows).toEqual([]);
  });
});

describe.each(TABLES)("%s, as customer A", (table) => {
  it("select returns only A's own rows, never B's", async () => {
    const seen = await visible(db.pool, asA, table);
    expect(seen).toEqual([...f.rows[table].a].sort());
    for (const key of f.rows[table].b) expect(seen).not.toContain(key);
  });

  it("insert, update and delete are refused by the role's grants, even for A's own data", async () => {
    const [sql, params] = insertForA(f, table);
    await expect(refused(db.pool, asA, sql, params)).resolves.toMatch(/permission denied/);
    await expect(refused(db.pool, asA, `update public.${table} set ${UPDATE[table]}`)).resolves.toMatch(
      /permission denied/,
    );
    await expect(refused(db.pool, asA, `delete from public.${table}`)).resolves.toMatch(/permission denied/);
    expect(await superuserKeys(db.pool, table)).toEqual(all(f, table));
  });
});

describe.each(TABLES)("%s, as anon", (table) => {
  it("reads nothing and writes nothing: it holds no privilege at all", async () => {
    await expect(refused(db.pool, anon, `select 1 from public.${table}`)).resolves.toMatch(
      /permission denied/,
    );
    await expect(refused(db.pool, anon, `update public.${table} set ${UPDATE[table]}`)).resolves.toMatch(
      /permission denied/,
    );
    await expect(refused(db.pool, anon, `delete from public.${table}`)).resolves.toMatch(/permission denied/);
    const [sql, params] = insertForA(f, table);
    await expect(refused(db.pool, anon, sql, params)).resolves.toMatch(/permission denied/);
  });
});

describe("the API roles' grants", () => {
  it("give customers only select, anon nothing, on every table, sequence and function in public", async () => {
    const { rows } = await db.pool.query<{ grantee: string; privilege: string; object: string }>(
      `select grantee, privilege_type as privilege, table_name as object
         from information_schema.role_table_grants
        where table_schema = 'public' and grantee in ('anon', 'authenticated')
       union all
       select grantee, privilege_type, object_name
         from information_schema.usage_privileges
        where object_schema = 'public' and grantee in ('anon', 'authenticated')
       union all
       select r.rolname, 'EXECUTE', p.proname
         from pg_proc p join pg_namespace n on n.oid = p.pronamespace, pg_roles r
        where n.nspname = 'public' and r.rolname in ('anon', 'authenticated')
          and has_function_privilege(r.oid, p.oid, 'execute')`,
    );
    const byRole = (role: string) => rows.filter((r) => r.grantee === role);
    expect(byRole("anon")).toEqual([]);
    const customer = byRole("authenticated");
    expect([...new Set(customer.filter((r) => r.privilege !== "EXECUTE").map((r) => r.privilege))]).toEqual([
      "SELECT",
    ]);
    const readable = new Set(customer.filter((r) => r.privilege === "SELECT").map((r) => r.object));
    for (const table of TABLES) expect(readable).toContain(table);
    expect(
      customer
        .filter((r) => r.privilege === "EXECUTE")
        .map((r) => r.object)
        .sort(),
    ).toEqual(["current_customer_id", "is_operator"]);
  });

  it("keep sealed model keys from customers, and Into MindRoom's tables from anon", async () => {
    await db.pool.query(
      `insert into public.provider_keys (customer_id, provider, sealed, last4)
       values ($1, 'openai', 'sealed-for-the-worker', '0001')`,
      [f.customers.a],
    );
    try {
      const shown = await withUser(
        db.pool,
        asA,
        async (c) => (await c.query("select provider, last4 from public.provider_keys")).rows,
      );
      expect(shown).toEqual([{ provider: "openai", last4: "0001" }]);
      for (const [claims, sql] of [
        [asA, "select sealed from public.provider_keys"],
        [asA, "delete from public.provider_keys"],
        [asA, "delete from public.matrix_accounts"],
        [anon, "select provider from public.provider_keys"],
        [anon, "select 1 from public.matrix_accounts"],
      ] as const)
        await expect(refused(db.pool, claims, sql)).resolves.toMatch(/permission denied/);
    } finally {
      await db.pool.query("delete from public.provider_keys where customer_id = $1", [f.customers.a]);
    }
  });

  it("give a table created later the same: select for customers, nothing for anon", async () => {
    const client = await db.pool.connect();
    try {
      await client.query("begin");
      await client.query("create table public.later_table (id bigserial primary key)");
      const { rows } = await client.query<{ grantee: string; privilege: string }>(
        `select grantee, privilege_type as privilege from information_schema.role_table_grants
          where table_schema = 'public' and table_name = 'later_table' and grantee in ('anon', 'authenticated')`,
      );
      expect(rows).toEqual([{ grantee: "authenticated", privilege: "SELECT" }]);
    } finally {
      await client.query("rollback");
      client.release();
    }
  });
});

describe.each(TABLES)("%s, as an operator", (table) => {
  it("reads every row but changes none", async () => {
    expect(await visible(db.pool, asOperator, table)).toEqual(all(f, table));
    await expect(
      refused(db.pool, asOperator, `update public.${table} set ${UPDATE[table]}`),
    ).resolves.toMatch(/permission denied/);
    await expect(refused(db.pool, asOperator, `delete from public.${table}`)).resolves.toMatch(
      /permission denied/,
    );
  });
});

describe.each(TABLES)("%s, as the service role", (table) => {
  it("reads, inserts, updates and deletes", async () => {
    const client = await db.pool.connect();
    try {
      await client.query("begin");
      await client.query("set local role service_role");
      const [sql, params] = insertForA(f, table);
      const inserted = await client.query<{ key: string }>(`${sql} returning ${KEY[table]} as key`, params);
      expect(inserted.rowCount).toBe(1);
      const rows = all(f, table).length + 1;
      expect((await client.query(`update public.${table} set ${UPDATE[table]}`)).rowCount).toBe(rows);
      expect((await client.query(`select ${KEY[table]} from public.${table}`)).rowCount).toBe(rows);
      const removed = await client.query(`delete from public.${table} where ${KEY[table]} = $1`, [
        inserted.rows[0]?.key,
      ]);
      expect(removed.rowCount).toBe(1);
    } finally {
      await client.query("rollback");
      client.release();
    }
  });
});

describe("the checks above catch a broken policy", () => {
  let broken: TestDatabase;
  let g: Fixture;
  beforeAll(async () => {
    broken = await testDatabase();
    g = await buildFixture(broken.pool);
  });
  afterAll(async () => {
    await broken?.close();
  });

  it("a policy without the owner check leaks B's customer row to A", async () => {
    const claims = { sub: g.users.a, role: "authenticated" };
    expect(await visible(broken.pool, claims, "customers")).toEqual([g.customers.a]);
    await broken.pool.query(`
      drop policy customers_select_own_or_operator on public.customers;
      create policy customers_select_everything on public.customers for select to authenticated using (true);`);
    const seen = await visible(broken.pool, claims, "customers");
    expect(seen).toContain(g.customers.b);
  });

  it("RLS switched off on a table leaks B's instance to A; a write granted back lets A change it", async () => {
    const claims = { sub: g.users.a, role: "authenticated" };
    expect(await visible(broken.pool, claims, "instances")).toEqual([g.instances.a]);
    await broken.pool.query("alter table public.instances disable row level security");
    expect(await visible(broken.pool, claims, "instances")).toContain(g.instances.b);
    await broken.pool.query("grant update on public.instances to authenticated");
    expect(await affected(broken.pool, claims, "update public.instances set desired_state = 'deleted'")).toBe(
      2,
    );
  });

  it("without its select policy a table shows A nothing, not even A's own rows: the policy is what grants access", async () => {
    const claims = { sub: g.users.a, role: "authenticated" };
    expect(await visible(broken.pool, claims, "usage")).toHaveLength(1);
    await broken.pool.query("drop policy usage_select_own_or_operator on public.usage");
    expect(await visible(broken.pool, claims, "usage")).toEqual([]);
  });
});
