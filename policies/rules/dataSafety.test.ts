import { beforeAll, describe, expect, it } from "vitest";
import { SAMPLE_ZONE, sampleSpecInput } from "../../testing/tenantSamples.ts";
import { byName, check, edit, editInputs, messages, recordTenant } from "../testing/fixtures.ts";
import { sampleSettings } from "../testing/samples.ts";
import type { SampleResource } from "../testing/validationArgs.ts";
import { productionDataRetained, purgeOnlyAfterFinalBackup } from "./dataSafety.ts";

const PRODUCTION = sampleSettings({ environment: "production" });
const productionSpec = (overrides: object = {}) =>
  sampleSpecInput({
    environment: "production",
    homeserver: "synapse",
    dns: { enabled: true, zoneId: SAMPLE_ZONE, proxied: true },
    backups: { enabled: true, bucket: "mindroom-backups", region: "eu-central-1" },
    ...overrides,
  });

let production: SampleResource[];
let purged: SampleResource[];
beforeAll(async () => {
  production = await recordTenant(productionSpec());
  purged = await recordTenant(productionSpec({ purgeData: true }));
});

describe("production-data-retained", () => {
  it("passes a production tenant: services and app storage are retained", async () => {
    expect(await check(productionDataRetained, production, PRODUCTION)).toEqual([]);
  });

  it("refuses a data holder that a destroy would drop", async () => {
    const resources = editInputs(production, "tenant-postgres", (p) => ({ ...p, retainData: false }));
    expect(messages(await check(productionDataRetained, resources, PRODUCTION))).toEqual([
      'Tenant "acme": postgres service pg-acme would be dropped by a destroy: it is neither retained nor protected, and no purge was requested; keep retainData true (or protect it).',
    ]);
  });

  it("accepts a protected holder, an explicit purge, and anything outside production", async () => {
    const unretained = editInputs(production, "tenant-runtime", (p) => ({ ...p, retainData: false }));
    expect(
      await check(
        productionDataRetained,
        edit(unretained, "tenant-runtime", () => ({ protect: true })),
        PRODUCTION,
      ),
    ).toEqual([]);
    expect(await check(productionDataRetained, purged, PRODUCTION)).toEqual([]);
    const test = await recordTenant(sampleSpecInput({ homeserver: "synapse" }));
    expect(await check(productionDataRetained, test)).toEqual([]);
  });

  it("does not count an app without storage (the backup job) as a data holder", async () => {
    const resources = editInputs(production, "tenant-backup", (p) => ({ ...p, retainData: false }));
    expect(await check(productionDataRetained, resources, PRODUCTION)).toEqual([]);
  });
});

describe("purge-only-after-final-backup", () => {
  it("passes a purge whose final backup depends on every data holder", async () => {
    const final = byName(purged, "tenant-final-backup");
    // The final backup waits for the services and for the apps' storage commands.
    for (const holder of [
      "tenant-postgres-service",
      "tenant-redis-service",
      "tenant-runtime-storage-data-mr-acme",
    ]) {
      expect(final.dependencies).toContain(byName(purged, holder).urn);
    }
    expect(await check(purgeOnlyAfterFinalBackup, purged, PRODUCTION)).toEqual([]);
  });

  it("refuses a purge when the final backup does not wait for a holder", async () => {
    const storage = byName(purged, "tenant-homeserver-storage-data-mx-acme").urn;
    const resources = edit(purged, "tenant-final-backup", (r) => ({
      dependencies: (r.dependencies ?? []).filter((d) => d !== storage),
    }));
    const found = await check(purgeOnlyAfterFinalBackup, resources, PRODUCTION);
    expect(messages(found)).toEqual([
      'Tenant "acme": app mx-acme\'s storage may be dropped by a destroy, but no final backup runs before it (the final backup does not depend on it).',
    ]);
    expect(found[0]?.urn).toMatch(/mindroom:dokku:App::tenant-homeserver$/);
  });

  it("refuses a purge without backups (no final backup at all)", async () => {
    const resources = await recordTenant(productionSpec({ purgeData: true, backups: { enabled: false } }), {
      unchecked: true,
    });
    const found = messages(await check(purgeOnlyAfterFinalBackup, resources, PRODUCTION));
    expect(found).toHaveLength(4);
    expect(found).toContain(
      'Tenant "acme": redis service redis-acme may be dropped by a destroy, but no final backup runs before it (the tenant has no final-backup command; enable backups).',
    );
  });

  it("leaves holders dropped without a purge to production-data-retained", async () => {
    const resources = editInputs(production, "tenant-postgres", (p) => ({ ...p, retainData: false }));
    expect(await check(purgeOnlyAfterFinalBackup, resources, PRODUCTION)).toEqual([]);
  });
});
