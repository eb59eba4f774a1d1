/**
 * The pack over whole sample tenants, built by the real component under mocks
 * (every tier and option, DNS and backups included) with the engine's analysis
 * emulated: conforming tenants pass untouched, and every non-conforming sample
 * is rejected by the policy it was written for. The real engine runs the same
 * samples, where it can, in pack.engine.test.ts.
 */
import { describe, expect, it } from "vitest";
import { TIER_IDS } from "../components/tiers.ts";
import { policies } from "./policies.ts";
import { policyNames, runPolicies } from "./testing/harness.ts";
import { mockRunSample, recordSample } from "./testing/runs.ts";
import { CONFORMING_SAMPLES, packConfigOf, sampleSettings, VIOLATING_SAMPLES } from "./testing/samples.ts";
import { UNKNOWN } from "./testing/validationArgs.ts";

describe("the sample set", () => {
  it("has a non-conforming sample for every policy, and only for policies of the pack", () => {
    const names = policies.map((p) => p.name);
    const covered = new Set(VIOLATING_SAMPLES.map((s) => s.policy));
    expect(names.filter((n) => !covered.has(n))).toEqual([]);
    expect([...covered].filter((n) => !names.includes(n))).toEqual([]);
  });

  it("has conforming samples of every tier and option", () => {
    const specs = CONFORMING_SAMPLES.map((s) => s.spec);
    expect(new Set(specs.map((s) => s.tier))).toEqual(new Set(TIER_IDS));
    expect(new Set(specs.map((s) => s.homeserver ?? "tuwunel"))).toEqual(new Set(["tuwunel", "synapse"]));
    expect(new Set(specs.map((s) => s.tls.mode))).toEqual(new Set(["letsencrypt", "origin-certificate"]));
    expect(new Set(specs.map((s) => s.environment))).toEqual(new Set(["test", "staging", "production"]));
    for (const option of ["suspended", "purgeData", "displayName"] as const) {
      expect(
        specs.some((s) => s[option]),
        option,
      ).toBe(true);
    }
    expect(specs.some((s) => s.dns.enabled && s.backups.enabled)).toBe(true);
  });
});

describe("conforming tenants (mock-based program runs)", () => {
  it.each(CONFORMING_SAMPLES.map((s) => [s.title, s] as const))(
    "%s: no violation at all",
    async (_, sample) => {
      expect(await mockRunSample(sample)).toEqual([]);
    },
  );
});

describe("conforming tenants in a preview (provider outputs not known yet)", () => {
  it.each(CONFORMING_SAMPLES.filter((s) => !s.engine).map((s) => [s.title, s] as const))(
    "%s: every policy runs, none reports",
    async (_, sample) => {
      const resources = await recordSample(sample, { preview: true });
      // The backup credentials' key is an AWS output: unknown until the update creates it.
      expect(JSON.stringify(resources).includes(UNKNOWN)).toBe(true);
      expect(await runPolicies(resources, packConfigOf(sample.settings))).toEqual([]);
    },
  );
});

describe("non-conforming tenants (mock-based program runs)", () => {
  it.each(VIOLATING_SAMPLES.map((s) => [s.policy, s.title, s] as const))(
    "%s rejects %s",
    async (policy, _, sample) => {
      const violations = await mockRunSample(sample);
      const own = violations.filter((v) => v.policy === policy);
      expect(own.length, `${policy} did not report: ${JSON.stringify(violations, null, 2)}`).toBeGreaterThan(
        0,
      );
      for (const v of own) {
        expect(v.level).toBe(sample.level ?? "mandatory");
        // Every message names its tenant first.
        expect(v.message).toMatch(/^Tenant "[a-z][a-z0-9-]*": |^No tenant: /);
      }
    },
  );

  it("reports every violation of a tenant, on every resource, not only the first", async () => {
    // A test tenant on a production platform: wrong environment, no backups, nothing retained.
    const sample = VIOLATING_SAMPLES.find((s) => s.policy === "tenant-environment-matches");
    if (!sample) throw new Error("no environment sample");
    const violations = await mockRunSample({
      ...sample,
      spec: { ...sample.spec, environment: "test", homeserver: "synapse" },
      settings: sampleSettings({ environment: "production" }),
    });
    expect(policyNames(violations)).toEqual([
      "production-backups-every-6h",
      "production-data-retained",
      "tenant-environment-matches",
    ]);
    // Two apps with storage and two services: four holders, each reported.
    expect(
      violations.filter((v) => v.policy === "production-data-retained").map((v) => v.urn?.split("::").pop()),
    ).toEqual(["tenant-postgres", "tenant-redis", "tenant-homeserver", "tenant-runtime"]);
  });
});
