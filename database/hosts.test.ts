import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type TestDatabase, testDatabase } from "../testing/database.ts";
import {
  findHostByUrl,
  fleetHosts,
  HostInUseError,
  HostNotFoundError,
  type HostReadiness,
  isSchedulable,
  listHosts,
  recordHostCheck,
  removeHost,
  saveHost,
  seedHosts,
  setHostSchedule,
  tenantsOnHost,
} from "./hosts.ts";

const KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGxvY2FsLWRva2t1LWRvdWJsZS1ob3N0LWtleS0wMDAwMDA=";
const OTHER_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIG90aGVyLWhvc3Qta2V5LTAwMDAwMDAwMDAwMDAwMDA=";
const READY: HostReadiness = {
  ready: true,
  problems: [],
  dokkuVersion: "0.38.27",
  plugins: { postgres: "1.48.0", redis: "1.43.0", letsencrypt: "0.25.1" },
  autorenew: true,
  globalDomains: ["mindroom.chat"],
};

let db: TestDatabase;
beforeAll(async () => {
  db = await testDatabase();
});
afterAll(async () => {
  await db?.close();
});

describe("hosts", () => {
  it("saves a host, keeps the first pinned key on a later save, and reads it back typed", async () => {
    const url = "ssh://root@dokku-a.example.com:22";
    const saved = await saveHost(db.pool, {
      url,
      address: "203.0.113.1",
      hostKey: KEY,
      memoryMb: 30_000,
      cpus: 8,
      readiness: READY,
      addedBy: "operator:ops",
    });
    expect(saved).toMatchObject({ url, hostKey: KEY, memoryMb: 30_000, cpus: 8, schedule: "active" });
    expect(saved.checkedAt).toBeInstanceOf(Date);
    expect(isSchedulable(saved)).toBe(true);
    const again = await saveHost(db.pool, {
      url,
      address: "203.0.113.2",
      hostKey: OTHER_KEY,
      memoryMb: 20_000,
      cpus: 4,
      addedBy: "operator:ops",
    });
    expect(again).toMatchObject({ hostKey: KEY, address: "203.0.113.2", memoryMb: 20_000, readiness: READY });
  });

  it("seeds DOKKU_HOSTS without overriding what the table knows", async () => {
    const url = "ssh://root@dokku-seed.example.com:2222";
    const seed = { url, address: "198.51.100.7", memoryMb: 8192, cpus: 4, proxied: true };
    await seedHosts(db.pool, [seed], new Map());
    expect(await findHostByUrl(db.pool, url)).toMatchObject({
      hostKey: null,
      proxied: true,
      readiness: null,
      addedBy: "seed:DOKKU_HOSTS",
    });
    // Not schedulable without a pinned key; the key arrives with a later seed, once.
    expect(isSchedulable((await findHostByUrl(db.pool, url)) as never)).toBe(false);
    await seedHosts(db.pool, [{ ...seed, memoryMb: 1 }], new Map([[url, KEY]]));
    await seedHosts(db.pool, [seed], new Map([[url, OTHER_KEY]]));
    const host = await findHostByUrl(db.pool, url);
    expect(host).toMatchObject({ hostKey: KEY, memoryMb: 8192 });
    expect(isSchedulable(host as never)).toBe(true);
  });

  it("knows the fleet as the table has it, plus seeds it does not hold yet", async () => {
    const url = `ssh://root@fleet-${randomUUID().slice(0, 8)}.example.com:22`;
    const saved = await saveHost(db.pool, {
      url,
      address: "198.51.100.20",
      hostKey: KEY,
      memoryMb: 4096,
      cpus: 2,
      proxied: false,
      readiness: READY,
      addedBy: "operator:ops@example.com",
    });
    const seedOfSaved = { url, address: "198.51.100.99", memoryMb: 1, cpus: 1, proxied: true };
    const newSeed = {
      url: "ssh://root@fleet-new.example.com:22",
      address: "198.51.100.21",
      memoryMb: 2048,
      cpus: 1,
      proxied: false,
    };
    expect(fleetHosts([saved], [seedOfSaved, newSeed])).toEqual([
      { url, address: "198.51.100.20", memoryMb: 4096, cpus: 2, proxied: false },
      newSeed,
    ]);
    expect(fleetHosts([saved], [])).toHaveLength(1);
  });

  it("cordons, drains and records checks; a failed check makes a host unschedulable", async () => {
    const url = "ssh://root@dokku-b.example.com:22";
    await saveHost(db.pool, {
      url,
      address: "b",
      hostKey: KEY,
      memoryMb: 1024,
      cpus: 1,
      addedBy: "operator:x",
    });
    expect((await setHostSchedule(db.pool, url, "cordoned", "disk replacement")).scheduleReason).toBe(
      "disk replacement",
    );
    expect(isSchedulable((await findHostByUrl(db.pool, url)) as never)).toBe(false);
    await setHostSchedule(db.pool, url, "active", null);
    const failed = await recordHostCheck(db.pool, url, {
      readiness: { ...READY, ready: false, problems: ["the redis plugin is not installed"] },
      memoryMb: 2048,
    });
    expect(failed).toMatchObject({ memoryMb: 2048, cpus: 1 });
    expect(isSchedulable(failed)).toBe(false);
    await expect(
      setHostSchedule(db.pool, "ssh://root@nowhere.example.com:22", "cordoned", null),
    ).rejects.toThrow(HostNotFoundError);
  });

  it("refuses to remove a host that tenants live on", async () => {
    const url = "ssh://root@dokku-c.example.com:22";
    await saveHost(db.pool, {
      url,
      address: "c",
      hostKey: KEY,
      memoryMb: 1024,
      cpus: 1,
      addedBy: "operator:x",
    });
    const customer = (
      await db.pool.query<{ id: string }>("insert into public.customers (email) values ($1) returning id", [
        `${randomUUID()}@example.com`,
      ])
    ).rows[0]?.id;
    await db.pool.query(
      "insert into public.instances (customer_id, slug, tier, desired_state, host) values ($1, 'on-c', 'free', 'running', $2)",
      [customer, url],
    );
    expect(await tenantsOnHost(db.pool, url)).toEqual(["on-c"]);
    await expect(removeHost(db.pool, url)).rejects.toThrow(HostInUseError);
    await db.pool.query("update public.instances set actual_state = 'deleted' where slug = 'on-c'");
    await removeHost(db.pool, url);
    expect(await findHostByUrl(db.pool, url)).toBeNull();
    await expect(removeHost(db.pool, url)).rejects.toThrow(HostNotFoundError);
  });

  it("refuses URLs and keys that are not what they claim, in the database itself", async () => {
    await expect(
      db.pool.query(
        "insert into public.hosts (url, address, memory_mb, cpus, added_by) values ('ssh://root@x;rm -rf /:22', 'x', 1, 1, 'x')",
      ),
    ).rejects.toMatchObject({ code: "23514" });
    await expect(
      db.pool.query(
        "insert into public.hosts (url, address, host_key, memory_mb, cpus, added_by) values ('ssh://root@y:22', 'y', 'ssh-ed25519 AAA\nevil', 1, 1, 'x')",
      ),
    ).rejects.toMatchObject({ code: "23514" });
    expect((await listHosts(db.pool)).map((h) => h.url)).not.toContain("ssh://root@y:22");
  });
});
