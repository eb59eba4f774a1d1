/** The shared rate-limit counters on a real Postgres, including two "processes" (pools) at once. */
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type TestDatabase, testDatabase } from "../testing/database.ts";
import { forgetIdleRateLimits, type RateLimitRequest, takeRateLimits } from "./rateLimits.ts";

let db: TestDatabase;

beforeAll(async () => {
  db = await testDatabase();
});

afterAll(async () => {
  await db?.close();
});

/** `count` requests per `windowSeconds`, all at once if they like. */
function rule(key: string, count: number, windowSeconds: number): RateLimitRequest {
  const emissionSeconds = windowSeconds / count;
  return { key, emissionSeconds, toleranceSeconds: windowSeconds - emissionSeconds };
}

describe("takeRateLimits", () => {
  it("allows a burst of the window's count, then refuses with the seconds until the next one", async () => {
    const decisions = [];
    for (let i = 0; i < 6; i++) decisions.push(await takeRateLimits(db.pool, [rule("burst", 5, 600)]));
    expect(decisions.slice(0, 5).every((d) => d.allowed)).toBe(true);
    expect(decisions[5]).toEqual({ allowed: false, retryAfterSeconds: expect.any(Number), keys: ["burst"] });
    const retry = decisions[5]?.allowed === false ? decisions[5].retryAfterSeconds : 0;
    // One request's worth (600 / 5 = 120 s), give or take the time the test took.
    expect(retry).toBeGreaterThan(110);
    expect(retry).toBeLessThanOrEqual(120);
  });

  it("refuses when any of the keys is spent, and names it", async () => {
    for (let i = 0; i < 2; i++) await takeRateLimits(db.pool, [rule("account-a", 2, 60)]);
    const decision = await takeRateLimits(db.pool, [rule("address-a", 100, 60), rule("account-a", 2, 60)]);
    expect(decision).toMatchObject({ allowed: false, keys: ["account-a"] });
  });

  it("counts exactly across processes: two pools hammering one key let the budget through, no more", async () => {
    const other = new pg.Pool({ connectionString: db.url, max: 8 });
    try {
      const pools = [db.pool, other];
      const attempts = Array.from({ length: 60 }, (_, i) =>
        takeRateLimits(pools[i % 2] as pg.Pool, [rule("shared", 20, 3600)]),
      );
      const decisions = await Promise.all(attempts);
      expect(decisions.filter((d) => d.allowed)).toHaveLength(20);
    } finally {
      await other.end();
    }
  });

  it("refills over time, and forgets keys whose budget is whole again", async () => {
    const fast = rule("fast", 2, 1);
    await takeRateLimits(db.pool, [fast]);
    await takeRateLimits(db.pool, [fast]);
    expect((await takeRateLimits(db.pool, [fast])).allowed).toBe(false);
    await new Promise((done) => setTimeout(done, 1100));
    expect((await takeRateLimits(db.pool, [fast])).allowed).toBe(true);
    await new Promise((done) => setTimeout(done, 1100));
    expect(await forgetIdleRateLimits(db.pool)).toBeGreaterThanOrEqual(1);
    const { rows } = await db.pool.query("select key from public.rate_limits where key = 'fast'");
    expect(rows).toEqual([]);
  });

  it("is out of reach of the API roles", async () => {
    const client = await db.pool.connect();
    try {
      await client.query("begin");
      await client.query("set local role authenticated");
      await expect(client.query("select * from public.rate_limits")).rejects.toThrow(/permission denied/);
    } finally {
      await client.query("rollback");
      client.release();
    }
  });
});
