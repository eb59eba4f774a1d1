import { describe, expect, it } from "vitest";
import type { KnownHost } from "../../components/hostPool.ts";
import { tenantMemoryMb, tier } from "../../components/tiers.ts";
import { freeMemoryMb, NoCapacityError, placeTenant } from "./placement.ts";

const host = (n: number, memoryMb: number): KnownHost => ({
  url: `ssh://root@10.0.0.${n}:22`,
  address: `10.0.0.${n}`,
  memoryMb,
  cpus: 4,
  proxied: false,
});
const STARTER = tenantMemoryMb(tier("starter"));
const PRO = tenantMemoryMb(tier("professional"));

describe("placement", () => {
  it("puts a new tenant on the host with the most free memory", () => {
    const pool = [host(1, 8192), host(2, 8192)];
    expect(
      placeTenant({
        pool,
        placed: [{ host: pool[0]?.url ?? "", tier: "starter" }],
        tier: "free",
        current: null,
      }),
    ).toBe(pool[1]?.url);
  });

  it("keeps the pool's order between equally free hosts", () => {
    const pool = [host(1, 4096), host(2, 4096)];
    expect(placeTenant({ pool, placed: [], tier: "starter", current: null })).toBe(pool[0]?.url);
  });

  it("skips a host without room even when it has the most memory in total", () => {
    const pool = [host(1, 16384), host(2, PRO)];
    const placed = Array.from({ length: Math.floor(16384 / STARTER) }, () => ({
      host: pool[0]?.url ?? "",
      tier: "starter" as const,
    }));
    expect(freeMemoryMb(pool, placed)[0]?.freeMb).toBeLessThan(PRO);
    expect(placeTenant({ pool, placed, tier: "professional", current: null })).toBe(pool[1]?.url);
  });

  it("fits a tenant that needs exactly the free memory", () => {
    const pool = [host(1, STARTER)];
    expect(placeTenant({ pool, placed: [], tier: "starter", current: null })).toBe(pool[0]?.url);
  });

  it("keeps an instance on its host, even one that is full or no longer in the pool", () => {
    const pool = [host(1, STARTER), host(2, 65536)];
    const placed = [{ host: pool[0]?.url ?? "", tier: "starter" as const }];
    expect(placeTenant({ pool, placed, tier: "enterprise", current: pool[0]?.url ?? "" })).toBe(pool[0]?.url);
    expect(placeTenant({ pool, placed, tier: "free", current: "ssh://root@10.9.9.9:22" })).toBe(
      "ssh://root@10.9.9.9:22",
    );
  });

  it("counts only tenants placed on each host", () => {
    const pool = [host(1, 8192), host(2, 8192)];
    const placed = [
      { host: pool[0]?.url ?? "", tier: "starter" as const },
      { host: pool[0]?.url ?? "", tier: "free" as const },
      { host: "ssh://root@10.9.9.9:22", tier: "enterprise" as const },
    ];
    expect(freeMemoryMb(pool, placed)).toEqual([
      { url: pool[0]?.url, freeMb: 8192 - STARTER - tenantMemoryMb(tier("free")) },
      { url: pool[1]?.url, freeMb: 8192 },
    ]);
  });

  it("skips a host with fewer cores than the tier's processes take", () => {
    const pool = [{ ...host(1, 65536), cpus: 2 }, host(2, 8192)];
    expect(placeTenant({ pool, placed: [], tier: "professional", current: null })).toBe(pool[1]?.url);
    expect(placeTenant({ pool, placed: [], tier: "starter", current: null })).toBe(pool[0]?.url);
  });

  it("is a typed error that lists each host's free memory when nothing fits", () => {
    const pool = [host(1, 1024), host(2, 2048)];
    const attempt = () => placeTenant({ pool, placed: [], tier: "professional", current: null });
    expect(attempt).toThrow(NoCapacityError);
    expect(attempt).toThrow(
      `no Dokku host has ${PRO} MB free for a professional tenant (ssh://root@10.0.0.1:22: 1024 MB free, ssh://root@10.0.0.2:22: 2048 MB free): add a host with mindroom-ops hosts add, or uncordon one`,
    );
    expect(() => placeTenant({ pool: [], placed: [], tier: "free", current: null })).toThrow(
      "no Dokku host takes new tenants: add one with mindroom-ops hosts add (or seed DOKKU_HOSTS)",
    );
  });
});
