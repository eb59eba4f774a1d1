import { describe, expect, it } from "vitest";
import type { KnownHost } from "../../components/hostPool.ts";
import { type TierId, tenantFootprint } from "../../components/tiers.ts";
import { hostUsage, NoCapacityError, placeTenant, resizeFits } from "./placement.ts";

const host = (n: number, memoryMb: number): KnownHost => ({
  url: `ssh://root@10.0.0.${n}:22`,
  address: `10.0.0.${n}`,
  memoryMb,
  cpus: 4,
  proxied: false,
});
const demand = (tier: TierId) => tenantFootprint({ tier, homeserver: "tuwunel", backups: false });
const on = (h: KnownHost | undefined, tier: TierId) => ({ host: h?.url ?? "", ...demand(tier) });
const STARTER = demand("starter").memoryMb;
const PRO = demand("professional").memoryMb;

describe("placement", () => {
  it("puts a new tenant on the host with the most free memory", () => {
    const pool = [host(1, 8192), host(2, 8192)];
    expect(
      placeTenant({ pool, placed: [on(pool[0], "starter")], demand: demand("free"), current: null }),
    ).toBe(pool[1]?.url);
  });

  it("keeps the pool's order between equally free hosts", () => {
    const pool = [host(1, 4096), host(2, 4096)];
    expect(placeTenant({ pool, placed: [], demand: demand("starter"), current: null })).toBe(pool[0]?.url);
  });

  it("skips a host without room even when it has the most memory in total", () => {
    const pool = [host(1, 16384), host(2, PRO)];
    const placed = Array.from({ length: Math.floor(16384 / STARTER) }, () => on(pool[0], "starter"));
    expect(hostUsage(pool, placed)[0]?.freeMb).toBeLessThan(PRO);
    expect(placeTenant({ pool, placed, demand: demand("professional"), current: null })).toBe(pool[1]?.url);
  });

  it("fits a tenant that needs exactly the free memory", () => {
    const pool = [host(1, STARTER)];
    expect(placeTenant({ pool, placed: [], demand: demand("starter"), current: null })).toBe(pool[0]?.url);
  });

  it("counts every process the tenant runs: a tenant with backups and Synapse needs more room", () => {
    const everything = tenantFootprint({ tier: "starter", homeserver: "synapse", backups: true });
    const pool = [host(1, STARTER)];
    expect(() => placeTenant({ pool, placed: [], demand: everything, current: null })).toThrow(
      NoCapacityError,
    );
    expect(
      placeTenant({ pool: [host(1, everything.memoryMb)], placed: [], demand: everything, current: null }),
    ).toBe(pool[0]?.url);
  });

  it("keeps an instance on its host, even one that is full or no longer in the pool", () => {
    const pool = [host(1, STARTER), host(2, 65536)];
    const placed = [on(pool[0], "starter")];
    expect(placeTenant({ pool, placed, demand: demand("enterprise"), current: pool[0]?.url ?? "" })).toBe(
      pool[0]?.url,
    );
    expect(placeTenant({ pool, placed, demand: demand("free"), current: "ssh://root@10.9.9.9:22" })).toBe(
      "ssh://root@10.9.9.9:22",
    );
  });

  it("counts only tenants placed on each host", () => {
    const pool = [host(1, 8192), host(2, 8192)];
    const placed = [
      on(pool[0], "starter"),
      on(pool[0], "free"),
      { host: "ssh://root@10.9.9.9:22", ...demand("enterprise") },
    ];
    expect(
      hostUsage(pool, placed).map((h) => [h.url, h.freeMb, h.committedMemoryMb, h.committedCpus]),
    ).toEqual([
      [pool[0]?.url, 8192 - STARTER - demand("free").memoryMb, STARTER + demand("free").memoryMb, 2.25],
      [pool[1]?.url, 8192, 0, 0],
    ]);
  });

  it("skips a host with fewer cores than the tenant's processes take", () => {
    const pool = [{ ...host(1, 65536), cpus: 2 }, host(2, 8192)];
    expect(placeTenant({ pool, placed: [], demand: demand("professional"), current: null })).toBe(
      pool[1]?.url,
    );
    expect(placeTenant({ pool, placed: [], demand: demand("starter"), current: null })).toBe(pool[0]?.url);
  });

  it("is a typed error that lists each host's free memory when nothing fits", () => {
    const pool = [host(1, 1024), host(2, 2048)];
    const attempt = () => placeTenant({ pool, placed: [], demand: demand("professional"), current: null });
    expect(attempt).toThrow(NoCapacityError);
    expect(attempt).toThrow(
      `no Dokku host has ${PRO} MB and 3 CPU free (ssh://root@10.0.0.1:22: 1024 MB of 1024 MB free, ssh://root@10.0.0.2:22: 2048 MB of 2048 MB free): add a host or give one more memory`,
    );
    expect(() => placeTenant({ pool: [], placed: [], demand: demand("free"), current: null })).toThrow(
      "no Dokku host takes new tenants: add one (mindroom-ops hosts add, or DOKKU_HOSTS)",
    );
  });
});

describe("a change of plan on the tenant's host", () => {
  const h = host(1, 8192);
  it("always fits a downgrade or an unchanged plan, even on a full host", () => {
    const others = [{ host: h.url, memoryMb: 8192, cpus: 4 }];
    expect(resizeFits({ host: h, others, current: demand("professional"), next: demand("starter") })).toEqual(
      {
        fits: true,
      },
    );
    expect(resizeFits({ host: h, others, current: demand("starter"), next: demand("starter") })).toEqual({
      fits: true,
    });
  });

  it("fits an upgrade the host has room for besides the other tenants", () => {
    const others = [on(h, "starter")];
    expect(resizeFits({ host: h, others, current: demand("starter"), next: demand("professional") })).toEqual(
      {
        fits: true,
      },
    );
  });

  it("refuses an upgrade the host cannot hold, saying what is free and what is needed", () => {
    const others = [on(h, "professional")];
    const verdict = resizeFits({ host: h, others, current: demand("starter"), next: demand("professional") });
    expect(verdict).toEqual({
      fits: false,
      neededMb: PRO,
      freeMb: 8192 - PRO,
      message: `${h.url} has ${8192 - PRO} MB of 8192 MB free besides this tenant, ${PRO} MB and 3 CPU needed`,
    });
  });

  it("refuses an upgrade beyond the host's cores", () => {
    const small = { ...h, memoryMb: 65536, cpus: 2 };
    expect(
      resizeFits({ host: small, others: [], current: demand("starter"), next: demand("professional") }).fits,
    ).toBe(false);
  });

  it("refuses an upgrade on a host that is no longer known", () => {
    expect(
      resizeFits({ host: undefined, others: [], current: demand("free"), next: demand("starter") }),
    ).toMatchObject({
      fits: false,
      message: "its host is no longer known",
    });
  });
});
