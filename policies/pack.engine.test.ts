/**
 * The pack through the real engine: `preview` with `policyPacks`/
 * `policyPackConfigs` through the Automation API (what the automation layer
 * passes on every preview and update), on sample tenant stacks of every tier
 * and option the engine can run here (DNS and backups need the Cloudflare and
 * AWS providers; samples.test.ts covers those). Violations are collected from
 * the engine's policy events.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { policyNames } from "./testing/harness.ts";
import { previewSample } from "./testing/runs.ts";
import { CONFORMING_SAMPLES, sampleSettings, VIOLATING_SAMPLES } from "./testing/samples.ts";

const configDirectory = mkdtempSync(join(tmpdir(), "mindroom-policy-"));
afterAll(() => rmSync(configDirectory, { recursive: true, force: true }));

const conforming = CONFORMING_SAMPLES.filter((s) => s.engine);
const violating = VIOLATING_SAMPLES.filter((s) => s.engine);

describe("conforming tenants through the real engine", () => {
  it.concurrent.each(conforming.map((s) => [s.title, s] as const))(
    "%s: the preview passes the pack",
    async (_, sample) => {
      const run = await previewSample(sample, configDirectory);
      expect(run.error).toBeUndefined();
      expect(run.violations).toEqual([]);
    },
  );
});

describe("non-conforming tenants through the real engine", () => {
  it.concurrent.each(violating.map((s) => [s.policy, s.title, s] as const))(
    "%s rejects %s",
    async (policy, _, sample) => {
      const run = await previewSample(sample, configDirectory);
      const own = run.violations.filter((v) => v.policy === policy);
      expect(
        own.length,
        `${policy} not among ${JSON.stringify(run.violations, null, 2)}\n${run.error}`,
      ).toBeGreaterThan(0);
      if ((sample.level ?? "mandatory") === "mandatory") {
        expect(own.every((v) => v.level === "mandatory")).toBe(true);
        expect(run.failed).toBe(true);
        expect(run.error).toMatch(new RegExp(`\\[mandatory\\]\\s+${policy}`));
      } else {
        // Advisory: reported, and the preview goes on.
        expect(own.every((v) => v.level === "advisory")).toBe(true);
        expect(run.error).toBeUndefined();
      }
      for (const v of own) expect(v.message).toContain('Tenant "');
    },
  );

  it("reports every violation of a tenant, on every resource, not only the first", async () => {
    const sample = CONFORMING_SAMPLES.find((s) => s.spec.homeserver === "synapse" && s.engine);
    if (!sample) throw new Error("no engine Synapse sample");
    // A test tenant on a production platform: wrong environment, no backups, nothing retained.
    const run = await previewSample(
      { ...sample, settings: sampleSettings({ environment: "production" }) },
      configDirectory,
    );
    expect(run.failed).toBe(true);
    expect(policyNames(run.violations)).toEqual([
      "production-backups-every-6h",
      "production-data-retained",
      "tenant-environment-matches",
    ]);
    const retained = run.violations.filter((v) => v.policy === "production-data-retained");
    expect(retained.map((v) => v.urn?.split("::").pop()).sort()).toEqual([
      "tenant-homeserver",
      "tenant-postgres",
      "tenant-redis",
      "tenant-runtime",
    ]);
  });

  it("refuses to run without the pack's config", async () => {
    const sample = conforming[0];
    if (!sample) throw new Error("no conforming sample");
    const run = await previewSample(sample, configDirectory, { withoutConfig: true });
    expect(run.failed).toBe(true);
    expect(run.error).toMatch(/tenant-on-known-host: hosts is required/);
  });
});
