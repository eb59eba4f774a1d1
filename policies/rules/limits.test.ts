import { beforeAll, describe, expect, it } from "vitest";
import { TIER_IDS, TIERS } from "../../components/tiers.ts";
import { sampleSpecInput } from "../../testing/tenantSamples.ts";
import { TYPES } from "../resourceTypes.ts";
import { check, editInputs, messages, ofType, recordTenant } from "../testing/fixtures.ts";
import type { SampleResource } from "../testing/validationArgs.ts";
import { appLimitsMatchTier } from "./limits.ts";

const BACKUPS = { enabled: true, bucket: "mindroom-backups", region: "eu-central-1" } as const;

describe("app-limits-match-tier", () => {
  let starter: SampleResource[];
  beforeAll(async () => {
    starter = await recordTenant(sampleSpecInput({ tier: "starter", backups: BACKUPS }));
  });

  it.each(TIER_IDS)("passes every app of a %s tenant, the backup job included", async (id) => {
    const resources = await recordTenant(
      sampleSpecInput({ tier: id, homeserver: "synapse", backups: BACKUPS }),
    );
    expect(ofType(resources, TYPES.app)).toHaveLength(3);
    expect(await check(appLimitsMatchTier, resources)).toEqual([]);
  });

  it("refuses an app sized like another tier, naming tier, role and both sizes", async () => {
    const resources = editInputs(starter, "tenant-runtime", (p) => ({
      ...p,
      resources: TIERS.enterprise.runtime,
    }));
    expect(messages(await check(appLimitsMatchTier, resources))).toEqual([
      'Tenant "acme": app mr-acme runs with 8192 MB, 4 CPU, 4096 MB reserved, but the starter tier gives its runtime ' +
        "1024 MB, 1 CPU, 512 MB reserved. Size apps only from the tier catalog.",
    ]);
  });

  it("refuses a reservation that differs, even with the right limits", async () => {
    const resources = editInputs(starter, "tenant-backup", (p) => ({
      ...p,
      resources: { ...TIERS.starter.backupJob, reserveMemoryMb: 0 },
    }));
    expect(messages(await check(appLimitsMatchTier, resources))).toEqual([
      'Tenant "acme": app bk-acme runs with 256 MB, 0.25 CPU, 0 MB reserved, but the starter tier gives its backupJob ' +
        "256 MB, 0.25 CPU, 64 MB reserved. Size apps only from the tier catalog.",
    ]);
  });

  it("refuses an app without memory and CPU limits", async () => {
    const resources = editInputs(starter, "tenant-homeserver", ({ resources: _, ...p }) => p);
    expect(messages(await check(appLimitsMatchTier, resources))).toEqual([
      'Tenant "acme": app mx-acme has no memory and CPU limit (resources: null); give it its tier\'s limits.',
    ]);
  });

  it("refuses a tier the catalog does not have", async () => {
    const resources = editInputs(starter, "tenant", (p) => ({
      ...p,
      spec: { ...(p.spec as object), tier: "gold" },
    }));
    const found = messages(await check(appLimitsMatchTier, resources));
    expect(found).toHaveLength(3);
    expect(found[0]).toBe(
      'Tenant "acme": tier "gold" is not in the tier catalog, so app mx-acme cannot be sized from it; use a tier of components/tiers.ts.',
    );
  });

  it("refuses an app that is none of the tenant's", async () => {
    const resources = editInputs(starter, "tenant-runtime", (p) => ({ ...p, app: "mr-other" }));
    expect(messages(await check(appLimitsMatchTier, resources))).toEqual([
      'Tenant "acme": app mr-other is none of the tenant\'s apps, so no row of the starter tier sizes it; name apps with tenantNames(slug).',
    ]);
  });
});
