import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { openDatabase } from "./connection.ts";
import { startEmbeddedPostgres } from "./embedded.ts";

const dirs: string[] = [];
function dataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "mindroom-embedded-"));
  dirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

async function query<T extends pg.QueryResultRow>(url: string, sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

async function accepts(url: string): Promise<boolean> {
  return query(url, "select 1").then(
    () => true,
    () => false,
  );
}

function postmasterPid(dir: string): number {
  return Number(readFileSync(join(dir, "postgres", "postmaster.pid"), "utf8").split("\n")[0]);
}

describe("startEmbeddedPostgres", () => {
  it("keeps data, port and password across restarts; the password file is private and never logged", async () => {
    const dir = dataDir();
    const first = await startEmbeddedPostgres({ dataDir: dir });
    await query(first.url, "create table kept (value text); insert into kept values ('survives')");
    await first.stop();
    expect(await accepts(first.url)).toBe(false);

    const second = await startEmbeddedPostgres({ dataDir: dir });
    try {
      expect(second.url).toBe(first.url);
      expect(await query(second.url, "select value from kept")).toEqual([{ value: "survives" }]);
      expect(statSync(join(dir, "postgres.password")).mode & 0o777).toBe(0o600);
      const password = readFileSync(join(dir, "postgres.password"), "utf8").trim();
      expect(password.length).toBeGreaterThanOrEqual(32);
      expect(readFileSync(join(dir, "postgres.log"), "utf8")).not.toContain(password);
      // No copy of the password is left in the temp folder used during initdb.
      expect(existsSync(join(dir, "postgres.init"))).toBe(false);
    } finally {
      await second.stop();
    }
  });

  it("reuses a server that is already running on the same data folder, and leaves it to its owner", async () => {
    const dir = dataDir();
    const owner = await startEmbeddedPostgres({ dataDir: dir });
    try {
      const reuser = await startEmbeddedPostgres({ dataDir: dir });
      expect(owner.owned).toBe(true);
      expect(reuser.owned).toBe(false);
      expect(reuser.url).toBe(owner.url);
      await reuser.stop();
      expect(await accepts(owner.url)).toBe(true);
    } finally {
      await owner.stop();
    }
    expect(await accepts(owner.url)).toBe(false);
  });

  it("lets concurrent first starts on one data folder share one server", async () => {
    const dir = dataDir();
    const servers = await Promise.all([1, 2, 3].map(() => startEmbeddedPostgres({ dataDir: dir })));
    try {
      expect(servers.filter((s) => s.owned)).toHaveLength(1);
      expect(new Set(servers.map((s) => s.url)).size).toBe(1);
      expect(await accepts(servers[0]?.url ?? "")).toBe(true);
    } finally {
      for (const server of servers.filter((s) => !s.owned)) await server.stop();
      await servers.find((s) => s.owned)?.stop();
    }
    expect(existsSync(join(dir, "postgres.starting"))).toBe(false);
  });

  it("restarts after the process running it and the server itself were killed (stale postmaster.pid)", async () => {
    const dir = dataDir();
    const seeded = await startEmbeddedPostgres({ dataDir: dir });
    await query(seeded.url, "create table kept (value text); insert into kept values ('before the crash')");
    await seeded.stop();

    // A separate process owns the server, then both die without any shutdown.
    const module = new URL("./embedded.ts", import.meta.url).href;
    const child = spawn(
      process.execPath,
      [
        "--input-type=module",
        "-e",
        `import { startEmbeddedPostgres } from ${JSON.stringify(module)};
         await startEmbeddedPostgres({ dataDir: ${JSON.stringify(dir)} });
         process.stdout.write("ready\\n");
         setInterval(() => {}, 1000);`,
      ],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    await new Promise<void>((resolve, reject) => {
      child.stdout.on("data", (chunk: Buffer) => {
        if (chunk.toString().includes("ready")) resolve();
      });
      child.once("exit", (code) => reject(new Error(`child exited early (${code})`)));
    });
    const pid = postmasterPid(dir);
    child.kill("SIGKILL");
    process.kill(pid, "SIGKILL");
    expect(existsSync(join(dir, "postgres", "postmaster.pid"))).toBe(true);

    const restarted = await startEmbeddedPostgres({ dataDir: dir });
    try {
      expect(restarted.owned).toBe(true);
      expect(await query(restarted.url, "select value from kept")).toEqual([{ value: "before the crash" }]);
    } finally {
      await restarted.stop();
    }
  });

  it("starts when postmaster.pid and the socket lock name a pid that now belongs to another process", async () => {
    const dir = dataDir();
    const first = await startEmbeddedPostgres({ dataDir: dir });
    const lockFile = join(dir, "postgres", `.s.PGSQL.${first.port}.lock`);
    const pidFile = join(dir, "postgres", "postmaster.pid");
    const pidContent = readFileSync(pidFile, "utf8");
    const lockContent = readFileSync(lockFile, "utf8");
    await first.stop();
    // What a killed run leaves behind once its pid is reused, here by this very test process.
    const reused = (content: string) => content.replace(/^\d+/, String(process.pid));
    writeFileSync(pidFile, reused(pidContent));
    writeFileSync(lockFile, reused(lockContent));

    const second = await startEmbeddedPostgres({ dataDir: dir });
    try {
      expect(await accepts(second.url)).toBe(true);
      expect(postmasterPid(dir)).not.toBe(process.pid);
    } finally {
      await second.stop();
    }
  });
});

describe("openDatabase on the embedded default", () => {
  it("starts the embedded Postgres, migrates it, and finds data and migrations in place after a restart", async () => {
    const dir = dataDir();
    const first = await openDatabase({ databaseUrl: undefined, dataDir: dir });
    try {
      expect(first.embedded).toBe(true);
      expect(first.migrations.applied).toContain("20261129000100_platform");
      await first.pool.query("insert into public.customers (stripe_customer_id) values ('cus_kept')");
    } finally {
      await first.close();
    }
    const second = await openDatabase({ databaseUrl: undefined, dataDir: dir });
    try {
      expect(second.migrations.applied).toEqual([]);
      expect(second.migrations.alreadyApplied).toContain("20261129000100_platform");
      const { rows } = await second.pool.query("select stripe_customer_id from public.customers");
      expect(rows).toEqual([{ stripe_customer_id: "cus_kept" }]);
    } finally {
      await second.close();
    }
  });
});
