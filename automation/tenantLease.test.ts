/**
 * Tenant leases on a real Postgres: one holder at a time, renewals keep a
 * lease, a holder that dies (SIGKILL, no goodbye) loses it once it expires and
 * not before, a holder that cannot reach the database stops before its lease
 * can expire, and the tenures stay recorded.
 */
import { spawn } from "node:child_process";
import { once } from "node:events";
import { connect, createServer, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type TestDatabase, testDatabase } from "../testing/database.ts";
import { holderHost, LeaseLostError, leaseTimings, TenantBusyError, TenantLeases } from "./tenantLease.ts";

let db: TestDatabase;
const opened: TenantLeases[] = [];
const leases = (ttlMs: number) => {
  const l = TenantLeases.open(db.url, leaseTimings(ttlMs));
  opened.push(l);
  return l;
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  db = await testDatabase();
});
afterAll(async () => {
  await Promise.all(opened.map((l) => l.close().catch(() => undefined)));
  await db?.close();
});

describe("tenant leases", { timeout: 60_000 }, () => {
  it("admit one holder at a time, naming the holder to the others", async () => {
    const a = leases(30_000);
    const b = leases(30_000);
    const first = await a.acquire("lease-one", "up");
    const busy = await b.acquire("lease-one", "destroy").catch((e: unknown) => e);
    expect(busy).toBeInstanceOf(TenantBusyError);
    expect((busy as TenantBusyError).message).toContain(`up (pid ${process.pid} on ${holderHost()}`);
    expect((busy as TenantBusyError).holder?.holder).toBe(first.holder);
    // Other tenants are not affected.
    const other = await b.acquire("lease-two", "up");
    await other.release();
    await first.release();
    const second = await b.acquire("lease-one", "destroy");
    expect(second.holder).not.toBe(first.holder);
    await second.release();
  });

  it("waits for the holder to finish when asked to", async () => {
    const a = leases(30_000);
    const held = await a.acquire("lease-wait", "up");
    setTimeout(() => void held.release(), 700);
    const started = performance.now();
    const next = await a.acquire("lease-wait", "up", { waitMs: 10_000 });
    expect(performance.now() - started).toBeGreaterThanOrEqual(650);
    await next.release();
  });

  it("stay held while renewed, past their ttl", async () => {
    const a = leases(1_500);
    const held = await a.acquire("lease-renewed", "up");
    await sleep(4_000);
    expect(held.lost.aborted).toBe(false);
    await expect(a.acquire("lease-renewed", "up")).rejects.toBeInstanceOf(TenantBusyError);
    expect(await a.isLive(held.holder)).toBe(true);
    await held.release();
    expect(await a.isLive(held.holder)).toBe(false);
  });

  it("pass to the next holder when the holder is killed, once its lease expires and not before", async () => {
    const ttl = 3_000;
    const child = spawn(
      process.execPath,
      [
        "--input-type=module",
        "-e",
        `const { TenantLeases, leaseTimings } = await import(${JSON.stringify(new URL("./tenantLease.ts", import.meta.url).pathname)});
         const leases = TenantLeases.open(${JSON.stringify(db.url)}, leaseTimings(${ttl}));
         const lease = await leases.acquire("lease-killed", "up");
         process.stdout.write(lease.holder + "\\n");
         setInterval(() => {}, 1000);`,
      ],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    const holder = await new Promise<string>((resolve, reject) => {
      child.stdout.once("data", (chunk: Buffer) => resolve(chunk.toString().trim()));
      child.once("exit", (code) => reject(new Error(`holder exited with ${code}`)));
    });
    const b = leases(ttl);
    await sleep(ttl + 500); // renewed meanwhile: still held
    await expect(b.acquire("lease-killed", "up")).rejects.toBeInstanceOf(TenantBusyError);
    child.kill("SIGKILL");
    const killedAt = performance.now();
    // Right after the kill the lease still stands: a holder cut off from the database looks the same.
    await expect(b.acquire("lease-killed", "up")).rejects.toBeInstanceOf(TenantBusyError);
    const next = await b.acquire("lease-killed", "up", { waitMs: 3 * ttl });
    const waited = performance.now() - killedAt;
    expect(waited).toBeLessThan(ttl + 2_000);
    const tenures = await b.tenures("lease-killed");
    expect(tenures.map((t) => [t.holder, t.live])).toEqual([
      [next.holder, true],
      [holder, false],
    ]);
    // The dead holder's tenure ended when it expired.
    expect(tenures[1]?.releasedAt?.getTime()).toBe(tenures[1]?.expiresAt.getTime());
    await next.release();
  });

  it("make a holder that cannot reach the database give up before its lease expires", async () => {
    const ttl = 3_000;
    await using proxy = await tcpProxy(new URL(db.url));
    const url = new URL(db.url);
    url.port = String(proxy.port);
    const cut = TenantLeases.open(url.toString(), leaseTimings(ttl));
    opened.push(cut);
    const held = await cut.acquire("lease-cut", "up");
    // The network between this holder and the database goes away.
    const cutAt = performance.now();
    proxy.cut();
    await new Promise<void>((resolve) =>
      held.lost.addEventListener("abort", () => resolve(), { once: true }),
    );
    const after = performance.now() - cutAt;
    expect(held.lost.reason).toBeInstanceOf(LeaseLostError);
    // It gave up while its lease (renewed at most one interval before the cut) still stood.
    expect(after).toBeGreaterThanOrEqual(ttl / 2 - ttl / 6);
    expect(after).toBeLessThan(ttl - ttl / 6);
    // Meanwhile, seen from the database, it still holds the tenant, until the lease expires.
    const other = leases(ttl);
    await expect(other.acquire("lease-cut", "up")).rejects.toBeInstanceOf(TenantBusyError);
    const next = await other.acquire("lease-cut", "up", { waitMs: 2 * ttl });
    await next.release();
  });

  it("make a holder whose lease was taken from it stop at the next renewal", async () => {
    const a = leases(3_000);
    const held = await a.acquire("lease-taken", "up");
    // As if it had expired and another holder had taken the tenant.
    await db.pool.query(
      `update automation.tenant_leases
          set acquired_at = clock_timestamp() - interval '1 minute', expires_at = clock_timestamp() - interval '1 second'
        where holder = $1`,
      [held.holder],
    );
    const other = await a.acquire("lease-taken", "up");
    await new Promise<void>((resolve) =>
      held.lost.addEventListener("abort", () => resolve(), { once: true }),
    );
    expect(String(held.lost.reason)).toMatch(/expired or another holder took it/);
    await held.release(); // closes nothing of the new holder's
    expect(await a.isLive(other.holder)).toBe(true);
    await other.release();
  });
});

/** A TCP proxy in front of the database whose `cut()` drops every connection and refuses new ones. */
async function tcpProxy(target: URL) {
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(Number(target.port), target.hostname);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on("error", () => undefined);
      s.on("close", () => sockets.delete(s));
    }
    client.pipe(upstream).pipe(client);
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  const cut = () => {
    server.close();
    for (const s of sockets) s.destroy();
  };
  return { port, cut, [Symbol.asyncDispose]: async () => cut() };
}
