import { describe, expect, it } from "vitest";
import { parseSlug } from "../../components/tenantNames.ts";
import type { TenantSpec } from "../../components/tenantSpec.ts";
import { SAMPLE_HOST_KEY, SAMPLE_IMAGES, SAMPLE_ZONE } from "../../testing/tenantSamples.ts";
import type { DesiredTenant } from "./desiredState.ts";
import { HostNotConfiguredError, type SpecSettings, specHash, tenantSpecFor } from "./tenantSpecFor.ts";

const HOST = "ssh://root@198.51.100.7:22";
const settings: SpecSettings = {
  baseDomain: "mindroom.test",
  environment: "test",
  hosts: [{ url: HOST, address: "198.51.100.7", memoryMb: 8192, cpus: 4, proxied: true }],
  hostKeys: new Map([[HOST, SAMPLE_HOST_KEY]]),
  images: SAMPLE_IMAGES,
  tlsEmail: "ops@mindroom.test",
  cloudflareZoneId: undefined,
  backup: undefined,
};
const instance = { slug: "jane-abc123", host: HOST, displayName: "Jane's agents" };
const running: DesiredTenant = {
  state: "running",
  tier: "starter",
  subscriptionId: "sub_1",
  warning: null,
  reason: "active",
};

describe("tenantSpecFor", () => {
  it("builds a valid spec from the desired state, instance and settings", () => {
    const { spec, hash } = tenantSpecFor(running, instance, settings);
    expect(spec).toEqual({
      slug: parseSlug("jane-abc123"),
      tier: "starter",
      environment: "test",
      displayName: "Jane's agents",
      suspended: false,
      purgeData: false,
      baseDomain: "mindroom.test",
      homeserver: "tuwunel",
      images: SAMPLE_IMAGES,
      host: { url: HOST, hostKey: SAMPLE_HOST_KEY, address: "198.51.100.7" },
      tls: { mode: "letsencrypt", email: "ops@mindroom.test" },
      dns: { enabled: false },
      backups: { enabled: false },
    } satisfies TenantSpec);
    expect(hash).toMatch(/^[a-f0-9]{64}$/);
  });

  it("makes the customer's name one line of text, and leaves it out when nothing is left", () => {
    const named = (displayName: string) =>
      tenantSpecFor(running, { ...instance, displayName }, settings).spec;
    expect(named("Jane\n\tDoe\u0000 's\r\n").displayName).toBe("Jane Doe 's");
    expect(named(`${"x".repeat(99)}\n${"y".repeat(10)}`).displayName).toBe(`${"x".repeat(99)}`);
    expect(named(" \n\t ")).not.toHaveProperty("displayName");
  });

  it("turns on single sign-on only for a tenant whose owner is known", () => {
    const platformAuth = {
      supabaseUrl: "https://auth.mindroom.test",
      supabaseAnonKey: "anon.key.jwt",
      portalUrl: "https://app.mindroom.test",
    };
    const owner = "5b0c3c4e-6d1f-4a55-9a3e-0c7f1f3c2b10";
    const withOwner = tenantSpecFor(
      running,
      { ...instance, ownerAccountId: owner },
      { ...settings, platformAuth },
    );
    expect(withOwner.spec.platformAuth).toEqual({ ...platformAuth, accountId: owner });
    // Platform mode without ACCOUNT_ID would let any platform user in: no owner, no platform mode.
    expect(
      tenantSpecFor(running, { ...instance, ownerAccountId: null }, { ...settings, platformAuth }).spec
        .platformAuth,
    ).toBeUndefined();
    expect(
      tenantSpecFor(running, { ...instance, ownerAccountId: owner }, settings).spec.platformAuth,
    ).toBeUndefined();
    expect(withOwner.hash).not.toBe(tenantSpecFor(running, instance, settings).hash);
  });

  it("gives new tenants the platform's homeserver and keeps an existing tenant's", () => {
    expect(tenantSpecFor(running, instance, { ...settings, homeserver: "synapse" }).spec.homeserver).toBe(
      "synapse",
    );
    expect(
      tenantSpecFor(running, { ...instance, homeserver: "tuwunel" }, { ...settings, homeserver: "synapse" })
        .spec.homeserver,
    ).toBe("tuwunel");
  });

  it("holds no secrets", () => {
    const text = JSON.stringify(tenantSpecFor(running, instance, settings).spec);
    expect(text).not.toMatch(/PRIVATE KEY|rootSecret|passphrase/i);
  });

  it("suspends for suspended and deleted, and purges data only for a deletion", () => {
    const suspended = tenantSpecFor(
      { state: "suspended", tier: "starter", subscriptionId: "sub_1", deletionDueAt: null, reason: "unpaid" },
      instance,
      settings,
    ).spec;
    expect([suspended.suspended, suspended.purgeData]).toEqual([true, false]);
    const deleted = tenantSpecFor(
      { state: "deleted", tier: "starter", deletionDueAt: new Date(0), reason: "canceled" },
      instance,
      settings,
    ).spec;
    expect([deleted.suspended, deleted.purgeData]).toEqual([true, true]);
  });

  it("has a hash that is stable across key order and changes with anything that matters", () => {
    const { spec, hash } = tenantSpecFor(running, instance, settings);
    const reordered = Object.fromEntries(Object.entries(spec).reverse()) as TenantSpec;
    expect(specHash(reordered)).toBe(hash);
    expect(tenantSpecFor(running, instance, settings).hash).toBe(hash);
    const variants = [
      tenantSpecFor({ ...running, tier: "professional" }, instance, settings).hash,
      tenantSpecFor({ ...running, warning: "payment past due" }, instance, settings).hash,
      tenantSpecFor(
        { state: "suspended", tier: "starter", subscriptionId: null, deletionDueAt: null, reason: "x" },
        instance,
        settings,
      ).hash,
      tenantSpecFor(running, { ...instance, displayName: "Other" }, settings).hash,
    ];
    // A warning is shown in the portal, not deployed: same spec, same hash.
    expect(variants).toEqual([
      expect.not.stringMatching(hash),
      hash,
      expect.not.stringMatching(hash),
      expect.not.stringMatching(hash),
    ]);
  });

  it("turns on DNS (proxied per host) and backups when configured", () => {
    const { spec } = tenantSpecFor(running, instance, {
      ...settings,
      environment: "production",
      cloudflareZoneId: SAMPLE_ZONE,
      backup: { bucket: "mindroom-backups", region: "eu-central-1" },
    });
    expect(spec.dns).toEqual({ enabled: true, zoneId: SAMPLE_ZONE, proxied: true });
    expect(spec.backups).toEqual({
      enabled: true,
      bucket: "mindroom-backups",
      region: "eu-central-1",
      schedule: "0 */6 * * *",
    });
  });

  it("refuses a host outside the pool or without a known key, saying what to configure", () => {
    expect(() => tenantSpecFor(running, { ...instance, host: "ssh://root@10.9.9.9:22" }, settings)).toThrow(
      /not a known host/,
    );
    expect(() => tenantSpecFor(running, instance, { ...settings, hostKeys: new Map() })).toThrow(
      HostNotConfiguredError,
    );
    expect(() => tenantSpecFor(running, instance, { ...settings, hostKeys: new Map() })).toThrow(
      /DOKKU_KNOWN_HOSTS/,
    );
  });
});
