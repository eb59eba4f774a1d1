import { describe, expect, it } from "vitest";
import { isTierId, TIER_IDS, TIERS, tenantFootprint, tier, UNLIMITED } from "./tiers.ts";

const plain = (id: (typeof TIER_IDS)[number]) =>
  tenantFootprint({ tier: id, homeserver: "tuwunel", backups: false });

describe("tier catalog", () => {
  it("has the business plan's limits", () => {
    expect(TIER_IDS.map((id) => [id, tier(id).agents, tier(id).messagesPerDay, tier(id).storageGb])).toEqual([
      ["free", 1, 100, 1],
      ["starter", 3, 1000, 10],
      ["professional", 10, 10000, 100],
      ["enterprise", UNLIMITED, UNLIMITED, UNLIMITED],
    ]);
    expect(TIER_IDS.map((id) => tier(id).monthlyPriceCents)).toEqual([0, 4900, 19900, null]);
  });
  it("grows resources monotonically with the tier, reservations below limits", () => {
    for (let i = 0; i < TIER_IDS.length; i++) {
      const t = TIERS[TIER_IDS[i] as (typeof TIER_IDS)[number]];
      expect(t.id).toBe(TIER_IDS[i]);
      for (const p of [t.runtime, t.homeserver, t.backupJob, t.postgres, t.redis]) {
        expect(p.reserveMemoryMb).toBeLessThanOrEqual(p.memoryMb);
        expect(p.cpus).toBeGreaterThan(0);
      }
      if (i > 0) {
        const prev = TIERS[TIER_IDS[i - 1] as (typeof TIER_IDS)[number]];
        expect(plain(t.id).memoryMb).toBeGreaterThan(plain(prev.id).memoryMb);
        expect(t.runtime.cpus).toBeGreaterThanOrEqual(prev.runtime.cpus);
      }
    }
  });
  it("counts every process a tenant runs: the apps, the backup job, Synapse's databases", () => {
    const t = tier("starter");
    expect(plain("starter")).toMatchObject({
      memoryMb: t.runtime.memoryMb + t.homeserver.memoryMb,
      cpus: t.runtime.cpus + t.homeserver.cpus,
    });
    expect(plain("starter").processes.map((p) => p.role)).toEqual(["runtime", "homeserver"]);
    const everything = tenantFootprint({ tier: "starter", homeserver: "synapse", backups: true });
    expect(everything.processes.map((p) => p.role)).toEqual([
      "runtime",
      "homeserver",
      "backupJob",
      "postgres",
      "redis",
    ]);
    expect(everything.memoryMb).toBe(
      t.runtime.memoryMb +
        t.homeserver.memoryMb +
        t.backupJob.memoryMb +
        t.postgres.memoryMb +
        t.redis.memoryMb,
    );
    expect(everything.cpus).toBe(2.35);
  });
  it("recognises tier ids", () => {
    expect(isTierId("starter")).toBe(true);
    expect(isTierId("gold")).toBe(false);
  });
});
