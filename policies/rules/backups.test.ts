import { beforeAll, describe, expect, it } from "vitest";
import { SAMPLE_ZONE, sampleSpecInput } from "../../testing/tenantSamples.ts";
import { check, editInputs, messages, recordTenant } from "../testing/fixtures.ts";
import { sampleSettings } from "../testing/samples.ts";
import type { SampleResource } from "../testing/validationArgs.ts";
import {
  backupCredentialsScoped,
  productionBackupsEvery6h,
  scheduleProblem,
  scopeProblems,
} from "./backups.ts";

const PRODUCTION = sampleSettings({ environment: "production" });
const BACKUPS = { enabled: true, bucket: "mindroom-backups", region: "eu-central-1" } as const;
const productionSpec = (backups: object = BACKUPS) =>
  sampleSpecInput({
    environment: "production",
    homeserver: "synapse",
    dns: { enabled: true, zoneId: SAMPLE_ZONE, proxied: true },
    backups: backups as typeof BACKUPS,
  });

let production: SampleResource[];
beforeAll(async () => {
  production = await recordTenant(productionSpec());
});

describe("scheduleProblem", () => {
  it("accepts every 6 hours or more often", () => {
    expect(scheduleProblem("0 */6 * * *")).toBeUndefined();
    expect(scheduleProblem("15 */2 * * *")).toBeUndefined();
  });
  it("says how long the longest gap is", () => {
    expect(scheduleProblem("0 3 * * *")).toBe(
      'backs up on "0 3 * * *", which leaves up to 24 hours between backups (at most 6 allowed)',
    );
    expect(scheduleProblem("0 0 31 2 *")).toBe(
      'backs up on "0 0 31 2 *", which leaves up to forever between backups (at most 6 allowed)',
    );
    expect(scheduleProblem(undefined)).toBe("has no backup schedule");
    expect(scheduleProblem("every 6 hours")).toMatch(/^has a backup schedule the pack cannot read/);
  });
});

describe("production-backups-every-6h", () => {
  it("passes a production tenant backed up every 6 hours, and its service schedules", async () => {
    expect(await check(productionBackupsEvery6h, production, PRODUCTION)).toEqual([]);
  });

  it("refuses a production tenant without backups", async () => {
    const resources = await recordTenant({ ...productionSpec({ enabled: false }) }, { unchecked: true });
    expect(messages(await check(productionBackupsEvery6h, resources, PRODUCTION))).toEqual([
      'Tenant "acme": it is a production tenant without backups; enable backups in its spec.',
    ]);
  });

  it("refuses a daily schedule, on the tenant and on each service backup", async () => {
    const resources = await recordTenant(productionSpec({ ...BACKUPS, schedule: "0 3 * * *" }));
    expect(messages(await check(productionBackupsEvery6h, resources, PRODUCTION))).toEqual([
      'Tenant "acme": it backs up on "0 3 * * *", which leaves up to 24 hours between backups (at most 6 allowed); schedule backups at least every 6 hours ("0 */6 * * *").',
      'Tenant "acme": ServiceBackup tenant-postgres-backup of service pg-acme backs up on "0 3 * * *", which leaves up to 24 hours between backups (at most 6 allowed); schedule it from the tenant\'s backup schedule.',
      'Tenant "acme": ServiceBackup tenant-redis-backup of service redis-acme backs up on "0 3 * * *", which leaves up to 24 hours between backups (at most 6 allowed); schedule it from the tenant\'s backup schedule.',
    ]);
  });

  it("treats every tenant of a production platform as production", async () => {
    const testTenant = await recordTenant(sampleSpecInput());
    expect(await check(productionBackupsEvery6h, testTenant)).toEqual([]);
    expect(await check(productionBackupsEvery6h, testTenant, PRODUCTION)).toHaveLength(1);
  });
});

describe("scopeProblems", () => {
  const doc = (...Statement: object[]) => ({ Version: "2012-10-17", Statement });
  const objects = (arn: string) => ({ Effect: "Allow", Action: ["s3:GetObject"], Resource: [arn] });

  it("accepts objects under the prefix and a listing limited to it", () => {
    expect(
      scopeProblems(
        doc(objects("arn:aws:s3:::b/tenants/acme/*"), {
          Effect: "Allow",
          Action: "s3:ListBucket",
          Resource: "arn:aws:s3:::b",
          Condition: { StringLike: { "s3:prefix": "tenants/acme/*" } },
        }),
        "b",
        "tenants/acme",
      ),
    ).toEqual([]);
  });

  it.each([
    [
      objects("arn:aws:s3:::b/*"),
      "statement 0 reaches arn:aws:s3:::b/*, outside arn:aws:s3:::b/tenants/acme/",
    ],
    [
      objects("arn:aws:s3:::b/tenants/acme-corp/*"),
      "statement 0 reaches arn:aws:s3:::b/tenants/acme-corp/*, outside arn:aws:s3:::b/tenants/acme/",
    ],
    [
      objects("arn:aws:s3:::b/tenants/acme/../beta/*"),
      "statement 0 reaches arn:aws:s3:::b/tenants/acme/../beta/*, outside arn:aws:s3:::b/tenants/acme/",
    ],
    [
      objects("arn:aws:s3:::other/tenants/acme/*"),
      "statement 0 reaches arn:aws:s3:::other/tenants/acme/*, outside arn:aws:s3:::b/tenants/acme/",
    ],
    [objects("*"), "statement 0 reaches *, outside arn:aws:s3:::b/tenants/acme/"],
    [
      { Effect: "Allow", Action: "s3:ListBucket", Resource: "arn:aws:s3:::b" },
      "statement 0 reaches bucket b without an s3:prefix condition under tenants/acme/",
    ],
    [
      { Effect: "Allow", Action: "s3:*", NotResource: "arn:aws:s3:::x" },
      "statement 0 uses NotResource/NotAction, which grants everything not listed",
    ],
    [{ Effect: "Allow", Action: "s3:*" }, "statement 0 names no resource"],
  ])("refuses %j", (statement, problem) => {
    expect(scopeProblems(doc(statement), "b", "tenants/acme")).toEqual([problem]);
  });

  it("ignores Deny statements (they grant nothing)", () => {
    expect(
      scopeProblems(doc({ Effect: "Deny", Action: "s3:*", Resource: "*" }), "b", "tenants/acme"),
    ).toEqual([]);
  });
});

describe("backup-credentials-scoped", () => {
  it("passes the tenant's credentials, policy and service backup destinations", async () => {
    expect(await check(backupCredentialsScoped, production, PRODUCTION)).toEqual([]);
  });

  it("refuses an IAM policy that reaches the whole bucket", async () => {
    const resources = editInputs(production, "tenant-backup-credentials-policy", (p) => ({
      ...p,
      policy: JSON.stringify({
        Statement: [{ Effect: "Allow", Action: "s3:*", Resource: "arn:aws:s3:::mindroom-backups/*" }],
      }),
    }));
    expect(messages(await check(backupCredentialsScoped, resources, PRODUCTION))).toEqual([
      'Tenant "acme": UserPolicy tenant-backup-credentials-policy: statement 0 reaches arn:aws:s3:::mindroom-backups/*, outside arn:aws:s3:::mindroom-backups/tenants/acme/; build it with backupPolicy(bucket, prefix).',
    ]);
  });

  it("refuses a policy that is not JSON", async () => {
    const resources = editInputs(production, "tenant-backup-credentials-policy", (p) => ({
      ...p,
      policy: "{",
    }));
    expect(messages(await check(backupCredentialsScoped, resources, PRODUCTION))).toEqual([
      'Tenant "acme": UserPolicy tenant-backup-credentials-policy has a policy that is not a JSON document, so its reach cannot be checked.',
    ]);
  });

  it("refuses credentials for another prefix and a service backup written elsewhere", async () => {
    const credentials = editInputs(production, "tenant-backup-credentials", (p) => ({
      ...p,
      prefix: "tenants",
    }));
    expect(messages(await check(backupCredentialsScoped, credentials, PRODUCTION))).toEqual([
      "Tenant \"acme\": Credentials tenant-backup-credentials is for mindroom-backups/tenants, not the tenant's mindroom-backups/tenants/acme; scope it to the tenant's prefix.",
    ]);
    const destination = editInputs(production, "tenant-redis-backup", (p) => ({
      ...p,
      destination: "mindroom-backups/shared/redis",
    }));
    expect(messages(await check(backupCredentialsScoped, destination, PRODUCTION))).toEqual([
      'Tenant "acme": ServiceBackup tenant-redis-backup writes to mindroom-backups/shared/redis, outside the tenant\'s mindroom-backups/tenants/acme/; write only under it.',
    ]);
  });
});
