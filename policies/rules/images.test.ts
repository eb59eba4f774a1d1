import { beforeAll, describe, expect, it } from "vitest";
import { SAMPLE_IMAGES, sampleSpecInput } from "../../testing/tenantSamples.ts";
import { check, editInputs, messages, recordTenant } from "../testing/fixtures.ts";
import type { SampleResource } from "../testing/validationArgs.ts";
import { imagesPinnedByDigest, unpinned } from "./images.ts";

const DIGEST = `sha256:${"e".repeat(64)}`;

describe("unpinned", () => {
  it.each([
    `ghcr.io/mindroom-ai/mindroom@${DIGEST}`,
    `ghcr.io/mindroom-ai/mindroom:v1.2.3@${DIGEST}`,
    `registry.example:5000/team/app@${DIGEST}`,
    `docker.io/offen/docker-volume-backup@${DIGEST}`,
  ])("accepts %s", (image) => {
    expect(unpinned(image)).toBeUndefined();
  });

  it.each([
    ["ghcr.io/mindroom-ai/mindroom:latest", "is not pinned by digest"],
    ["ghcr.io/mindroom-ai/mindroom:v1.2.3", "is not pinned by digest"],
    ["ghcr.io/mindroom-ai/mindroom", "is not pinned by digest"],
    ["mindroom@sha256:abc", "is not pinned by digest"],
    [`ghcr.io/mindroom-ai/mindroom@sha256:${"E".repeat(64)}`, "is not pinned by digest"],
    [
      `ghcr.io/mindroom-ai/mindroom:latest@${DIGEST}`,
      "carries the :latest tag (a digest with a moving tag misleads whoever reads it)",
    ],
  ])("refuses %s", (image, why) => {
    expect(unpinned(image)).toBe(why);
  });
});

describe("images-pinned-by-digest", () => {
  let tenant: SampleResource[];
  beforeAll(async () => {
    tenant = await recordTenant(
      sampleSpecInput({ backups: { enabled: true, bucket: "mindroom-backups", region: "eu-central-1" } }),
    );
  });

  it("passes a tenant whose spec, apps and deploys all use pinned images", async () => {
    expect(await check(imagesPinnedByDigest, tenant)).toEqual([]);
  });

  it("refuses an app image by tag, once per place it appears", async () => {
    const resources = editInputs(tenant, "tenant-runtime", (p) => ({
      ...p,
      image: "ghcr.io/mindroom-ai/mindroom:latest",
    }));
    expect(messages(await check(imagesPinnedByDigest, resources))).toEqual([
      'Tenant "acme": app mr-acme: image "ghcr.io/mindroom-ai/mindroom:latest" is not pinned by digest; pin it by digest.',
    ]);
  });

  it("refuses a deploy script that pulls an unpinned image", async () => {
    const resources = editInputs(tenant, "tenant-homeserver-deploy", (p) => ({
      ...p,
      create: "set -e\ndokku git:from-image mx-acme ghcr.io/mindroom-ai/mindroom-tuwunel:main",
      update: "set -e\ndokku git:from-image mx-acme ghcr.io/mindroom-ai/mindroom-tuwunel:main",
    }));
    expect(messages(await check(imagesPinnedByDigest, resources))).toEqual([
      'Tenant "acme": Command tenant-homeserver-deploy deploys: image "ghcr.io/mindroom-ai/mindroom-tuwunel:main" is not pinned by digest; pin it by digest.',
    ]);
  });

  it("refuses an unpinned image in the tenant's spec", async () => {
    const resources = editInputs(tenant, "tenant", (p) => ({
      ...p,
      spec: { ...(p.spec as object), images: { ...SAMPLE_IMAGES, backup: "offen/docker-volume-backup:v2" } },
    }));
    expect(messages(await check(imagesPinnedByDigest, resources))).toEqual([
      'Tenant "acme": spec image backup: image "offen/docker-volume-backup:v2" is not pinned by digest; pin it by digest.',
    ]);
  });
});
