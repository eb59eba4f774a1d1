import { describe, expect, it } from "vitest";
import { isTierId, TIER_IDS, TIERS, tenantMemoryMb, tier, UNLIMITED } from "./tiers.ts";

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
      for (const p of [t.runtime, t.homeserver]) {
        expect(p.reserveMemoryMb).toBeLessThanOrEqual(p.memoryMb);
        expect(p.cpus).toBeGreaterThan(0);
      }
      if (i > 0) {
        const prev = TIERS[TIER_IDS[i - 1] as (typeof TIER_IDS)[number]];
        expect(tenantMemoryMb(t)).toBeGreaterThan(tenantMemoryMb(prev));
        expect(t.runtime.cpus).toBeGreaterThanOrEqual(prev.runtime.cpus);
      }
    }
  });
  it("recognises tier ids", () => {
    expect(isTierId("starter")).toBe(true);
    expect(isTierId("gold")).toBe(false);
  });
});
