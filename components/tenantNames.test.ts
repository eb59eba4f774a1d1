import { describe, expect, it } from "vitest";
import {
  parseDomain,
  parseSlug,
  type Slug,
  TenantInputError,
  tenantDomains,
  tenantNames,
} from "./tenantNames.ts";

/** Every name of a tenant, bridges' included. */
function allNames(slug: Slug): string[] {
  const { slug: _, bridgeApps, bridgeStorage, ...names } = tenantNames(slug);
  return [...Object.values(names), ...Object.values(bridgeApps), ...Object.values(bridgeStorage)];
}

describe("parseSlug", () => {
  it.each(["acme", "a1b", "acme-corp", "x-1-2", "a".repeat(30)])("accepts %j", (slug) => {
    expect(parseSlug(slug)).toBe(slug);
  });
  it.each([
    "ab",
    "a".repeat(31),
    "Acme",
    "1acme",
    "-acme",
    "acme-",
    "ac--me",
    "ac_me",
    "ac.me",
    "ac me",
    "acme'",
    'ac"me',
    "$(id)",
    "acme\n",
    "acme;rm",
    "",
  ])("rejects %j with a clear error", (slug) => {
    expect(() => parseSlug(slug)).toThrow(TenantInputError);
    expect(() => parseSlug(slug)).toThrow(/lowercase letters, digits and single hyphens/);
  });
  it("rejects non-strings", () => {
    expect(() => parseSlug(42)).toThrow(/must be a string/);
  });
});

describe("parseDomain", () => {
  it.each(["example.com", "mindroom.chat", "a.b.c.example.org", "x-1.example.com"])("accepts %j", (d) => {
    expect(parseDomain(d)).toBe(d);
  });
  it.each([
    "localhost",
    "Example.com",
    "example.com.",
    "-a.com",
    "a-.com",
    "a..com",
    "a_b.com",
    "ex ample.com",
    `${"a".repeat(64)}.com`,
  ])("rejects %j", (d) => {
    expect(() => parseDomain(d)).toThrow(TenantInputError);
  });
});

describe("tenantNames", () => {
  it("derives every name from the slug with a per-kind prefix", () => {
    expect(tenantNames(parseSlug("acme"))).toEqual({
      slug: "acme",
      network: "net-acme",
      runtimeApp: "mr-acme",
      homeserverApp: "mx-acme",
      backupApp: "bk-acme",
      postgres: "pg-acme",
      redis: "redis-acme",
      runtimeStorage: "data-mr-acme",
      homeserverStorage: "data-mx-acme",
      bridgeApps: {
        telegram: "br-tg-acme",
        whatsapp: "br-wa-acme",
        discord: "br-dc-acme",
        slack: "br-sl-acme",
      },
      bridgeStorage: {
        telegram: "data-br-tg-acme",
        whatsapp: "data-br-wa-acme",
        discord: "data-br-dc-acme",
        slack: "data-br-sl-acme",
      },
    });
  });
  it("never gives two tenants the same name, even for slugs that extend each other", () => {
    const slugs = [
      "acme",
      "acme-data",
      "acme-mr",
      "data",
      "data-mr",
      "net-acme",
      "mr-acme",
      "acme-net",
      "data-mx",
      "pg-acme",
      "tg-acme",
      "br-tg",
      "data-br",
    ].map(parseSlug);
    const seen = new Map<string, string>();
    for (const slug of slugs) {
      for (const name of allNames(slug)) {
        expect(seen.get(name), `${name} of ${slug}`).toBeUndefined();
        seen.set(name, slug);
      }
    }
  });
  it("keeps every name within Dokku's and Docker's limits", () => {
    for (const name of allNames(parseSlug("a".repeat(30)))) {
      expect(name.length).toBeLessThanOrEqual(45);
      expect(name).toMatch(/^[a-z0-9][a-z0-9-]*$/);
    }
  });
});

describe("tenantDomains", () => {
  it("puts the three hosts under the base domain", () => {
    expect(tenantDomains(parseSlug("acme"), "mindroom.chat")).toEqual({
      app: "acme.mindroom.chat",
      api: "acme.api.mindroom.chat",
      matrix: "acme.matrix.mindroom.chat",
    });
  });
  it("validates the base domain", () => {
    expect(() => tenantDomains(parseSlug("acme"), "bad domain")).toThrow(/base domain/);
  });
});
