/**
 * The control plane under Pulumi's mocks: its Dokku apps and their pieces, and
 * the parts whose providers cannot run here (Cloudflare records, the backup
 * bucket and the KMS key) with exactly the settings production relies on.
 */
import { describe, expect, it } from "vitest";
import { SAMPLE_CONTROL_IMAGE, SAMPLE_ZONE_ID, samplePlatformSpec } from "../../testing/platformSamples.ts";
import { isSecret, type RecordedResource, recordResources, reveal } from "../../testing/pulumiMocks.ts";
import type { PlatformSpec } from "../platformSpec.ts";
import { CONTROL_PLANE_NAMES, ControlPlane, type ControlPlaneOutputs } from "./controlPlane.ts";

const IMAGE = SAMPLE_CONTROL_IMAGE;
const ZONE = SAMPLE_ZONE_ID;

async function build(spec: PlatformSpec) {
  let outputs: ControlPlaneOutputs | undefined;
  const resources = await recordResources(
    () => {
      outputs = new ControlPlane("platform", {
        spec,
        sshPrivateKey: "-----BEGIN OPENSSH PRIVATE KEY-----\nmock\n-----END OPENSSH PRIVATE KEY-----",
        environments: {
          webhooks: { DATABASE_URL: "postgres://worker@db/mindroom", MINDROOM_ROOT_SECRET: "r".repeat(64) },
          portal: { DATABASE_URL: "postgres://portal@db/mindroom" },
        },
      }).outputs;
    },
    { project: "mindroom-platform", stack: "production" },
  );
  if (!outputs) throw new Error("no outputs");
  return { resources, outputs };
}

const one = (rs: readonly RecordedResource[], type: string) => {
  const found = rs.filter((r) => r.type === type);
  expect(
    found.map((r) => r.name),
    type,
  ).toHaveLength(1);
  return found[0] as RecordedResource;
};
const named = (rs: readonly RecordedResource[], name: string) => {
  const found = rs.find((r) => r.name === name);
  if (!found) throw new Error(`no resource ${name}; have ${rs.map((r) => r.name).join(", ")}`);
  return found;
};

describe("ControlPlane (production: DNS, bucket and key on)", () => {
  it("runs both parts as Dokku apps on their own network, each told which part it is", async () => {
    const { resources } = await build(samplePlatformSpec());
    const apps = resources.filter((r) => r.type === "mindroom:dokku:App");
    expect(apps.map((a) => a.inputs.app).sort()).toEqual(["mindroom-portal", "mindroom-webhooks"]);
    for (const app of apps) {
      expect(app.inputs.network).toBe(CONTROL_PLANE_NAMES.network);
      expect(app.inputs.image).toBe(IMAGE);
      expect(app.inputs.retainData).toBe(true);
    }
    const config = (app: string) => {
      const r = named(resources, `platform-${app}-config`);
      expect(isSecret(r.inputs.stdin)).toBe(true);
      return JSON.parse(String(reveal(r.inputs.stdin))) as Record<string, string>;
    };
    expect(config("portal")).toMatchObject({
      MINDROOM_SERVE_ONLY: "portal",
      MINDROOM_ENVIRONMENT: "production",
    });
    expect(config("portal")).not.toHaveProperty("MINDROOM_ROOT_SECRET");
    expect(config("webhooks")).toMatchObject({ MINDROOM_SERVE_ONLY: "webhooks", PORT: "5000" });
    // Domains and TLS: each app's own, Let's Encrypt with the platform's account.
    expect(String(reveal(named(resources, "platform-portal-settings").inputs.create))).toContain(
      "app.example.com",
    );
    const tls = String(reveal(named(resources, "platform-webhooks-tls-letsencrypt").inputs.create));
    expect(tls).toContain("letsencrypt:enable");
    expect(tls).toContain("ops@example.com");
  });

  it("points one DNS record per domain at the control host", async () => {
    const { resources } = await build(samplePlatformSpec());
    const records = resources.filter((r) => r.type === "cloudflare:index/dnsRecord:DnsRecord");
    expect(
      records
        .map((r) => ({ name: r.inputs.name, content: r.inputs.content, type: r.inputs.type }))
        .sort((a, b) => String(a.name).localeCompare(String(b.name))),
    ).toEqual([
      { name: "app.example.com", content: "203.0.113.10", type: "A" },
      { name: "hooks.example.com", content: "203.0.113.10", type: "A" },
    ]);
    for (const r of records) expect(r.inputs.zoneId).toBe(ZONE);
  });

  it("creates the backup bucket private, versioned, KMS-encrypted and expiring after the retention", async () => {
    const { resources, outputs } = await build(samplePlatformSpec());
    const key = one(resources, "aws:kms/key:Key");
    expect(key.inputs.enableKeyRotation).toBe(true);
    expect(one(resources, "aws:kms/alias:Alias").inputs).toMatchObject({
      name: "alias/mindroom-secrets",
      targetKeyId: "mock-key-id-of-platform-secrets-key",
    });
    expect(one(resources, "aws:s3/bucket:Bucket").inputs).toMatchObject({
      bucket: "mindroom-backups",
      forceDestroy: false,
    });
    expect(one(resources, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock").inputs).toMatchObject({
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    });
    expect(one(resources, "aws:s3/bucketVersioning:BucketVersioning").inputs).toMatchObject({
      versioningConfiguration: { status: "Enabled" },
    });
    expect(
      one(resources, "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration")
        .inputs,
    ).toMatchObject({
      rules: [
        {
          applyServerSideEncryptionByDefault: {
            sseAlgorithm: "aws:kms",
            kmsMasterKeyId: "arn:aws:kms:eu-central-1:123456789012:key/mock-key-id-of-platform-secrets-key",
          },
        },
      ],
    });
    const lifecycle = one(resources, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration");
    expect(lifecycle.inputs.rules).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          status: "Enabled",
          expiration: { days: 30 },
          noncurrentVersionExpiration: { noncurrentDays: 7 },
        }),
      ]),
    );
    expect(outputs).toMatchObject({
      backupBucket: "s3://mindroom-backups",
      secretsKey: "awskms://alias/mindroom-secrets?region=eu-central-1",
      urls: {
        portal: "https://app.example.com",
        webhooks: "https://hooks.example.com",
        stripeWebhook: "https://hooks.example.com/stripe/webhook",
      },
    });
  });

  it("without DNS and storage (a test host) registers nothing from Cloudflare or AWS", async () => {
    const { resources, outputs } = await build(
      samplePlatformSpec({ environment: "test", dns: { enabled: false }, storage: { enabled: false } }),
    );
    expect(resources.filter((r) => r.type.startsWith("aws:") || r.type.startsWith("cloudflare:"))).toEqual(
      [],
    );
    expect(outputs).toMatchObject({ backupBucket: null, secretsKey: null });
  });
});

describe("the platform spec", () => {
  it("refuses a production control plane without DNS or storage, and one domain for both parts", () => {
    expect(() =>
      samplePlatformSpec({
        dns: { enabled: false },
        storage: { enabled: false },
        domains: { webhooks: "app.example.com", portal: "app.example.com" },
      }),
    ).toThrow(/domains: .*different domains[\s\S]*dns: a production control plane needs DNS[\s\S]*storage:/);
  });

  it("refuses an image not pinned by digest and a reserved KMS alias", () => {
    expect(() => samplePlatformSpec({ image: "ghcr.io/mindroom-ai/mindroom-cloud:latest" })).toThrow(
      /image: must be pinned by digest/,
    );
    expect(() =>
      samplePlatformSpec({
        storage: {
          enabled: true,
          bucket: "mindroom-backups",
          region: "eu-central-1",
          retentionDays: 30,
          secretsKeyAlias: "aws/s3",
        },
      }),
    ).toThrow(/reserved by AWS/);
  });
});
