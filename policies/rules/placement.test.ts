import { beforeAll, describe, expect, it } from "vitest";
import { SAMPLE_HOST_KEY, sampleSpecInput } from "../../testing/tenantSamples.ts";
import { check, editInputs, messages, recordTenant } from "../testing/fixtures.ts";
import { SAMPLE_HOST, sampleSettings } from "../testing/samples.ts";
import type { SampleResource } from "../testing/validationArgs.ts";
import { tenantEnvironmentMatches, tenantOnKnownHost, tierFitsHost, tierHostHeadroom } from "./placement.ts";

const withHost = (host: Partial<typeof SAMPLE_HOST>) =>
  sampleSettings({ hosts: [{ ...SAMPLE_HOST, ...host }] });
const BACKUPS = { enabled: true, bucket: "mindroom-backups", region: "eu-central-1" } as const;

let starter: SampleResource[];
beforeAll(async () => {
  starter = await recordTenant(sampleSpecInput({ tier: "starter" }));
});

describe("tenant-on-known-host", () => {
  it("passes a tenant on a known host at its address, whatever the SSH user", async () => {
    expect(await check(tenantOnKnownHost, starter)).toEqual([]);
    expect(await check(tenantOnKnownHost, starter, withHost({ url: "ssh://deploy@127.0.0.1:2222" }))).toEqual(
      [],
    );
  });

  it("refuses a host the platform does not know, listing the known ones", async () => {
    const resources = editInputs(starter, "tenant", (p) => ({
      spec: {
        ...(p.spec as object),
        host: { url: "ssh://root@198.51.100.7:22", hostKey: SAMPLE_HOST_KEY, address: "198.51.100.7" },
      },
    }));
    expect(messages(await check(tenantOnKnownHost, resources))).toEqual([
      'Tenant "acme": its host ssh://root@198.51.100.7:22 is not a known Dokku host (known: ssh://root@127.0.0.1:2222); place the tenant on one of them, or add the host to the policy pack config.',
    ]);
  });

  it("refuses a known host at another address (DNS would point elsewhere)", async () => {
    expect(messages(await check(tenantOnKnownHost, starter, withHost({ address: "203.0.113.99" })))).toEqual([
      'Tenant "acme": its host ssh://root@127.0.0.1:2222 is known at address 203.0.113.99, but the spec says 203.0.113.10; correct the spec\'s host.address (DNS would point elsewhere).',
    ]);
  });
});

describe("tenant-environment-matches", () => {
  it("passes a tenant in the platform's environment", async () => {
    expect(await check(tenantEnvironmentMatches, starter)).toEqual([]);
  });

  it("refuses a spec that claims another environment", async () => {
    expect(
      messages(await check(tenantEnvironmentMatches, starter, sampleSettings({ environment: "production" }))),
    ).toEqual([
      'Tenant "acme": its spec says environment "test", but this platform is production; set the spec\'s environment from the platform\'s.',
    ]);
  });
});

describe("tier-fits-host", () => {
  it("passes a tier that fits, exactly at the host's capacity too", async () => {
    expect(await check(tierFitsHost, starter)).toEqual([]);
    // starter: 1024 + 512 MB, 1 + 0.5 CPU
    expect(await check(tierFitsHost, starter, withHost({ memoryMb: 1536, cpus: 1.5 }))).toEqual([]);
  });

  it("refuses a tier that needs more memory or CPU than the host has", async () => {
    expect(messages(await check(tierFitsHost, starter, withHost({ memoryMb: 1024 })))).toEqual([
      'Tenant "acme": the starter tier needs 1536 MB and 1.5 CPU at its limits, more than host ssh://root@127.0.0.1:2222 (1024 MB, 8 CPU) has; place the tenant on a bigger host.',
    ]);
    expect(await check(tierFitsHost, starter, withHost({ cpus: 1 }))).toHaveLength(1);
  });

  it("counts the backup job when the tenant has backups", async () => {
    const withBackups = await recordTenant(sampleSpecInput({ tier: "starter", backups: BACKUPS }));
    expect(messages(await check(tierFitsHost, withBackups, withHost({ memoryMb: 1536, cpus: 1.5 })))).toEqual(
      [
        'Tenant "acme": the starter tier needs 1792 MB and 1.75 CPU at its limits, more than host ssh://root@127.0.0.1:2222 (1536 MB, 1.5 CPU) has; place the tenant on a bigger host.',
      ],
    );
  });

  it("leaves an unknown host to tenant-on-known-host", async () => {
    expect(await check(tierFitsHost, starter, withHost({ url: "ssh://root@198.51.100.7:22" }))).toEqual([]);
  });
});

describe("tier-host-headroom (advisory)", () => {
  it("is quiet while 20% of the host stays free", async () => {
    expect(await check(tierHostHeadroom, starter, withHost({ memoryMb: 1920, cpus: 1.875 }))).toEqual([]);
  });

  it("warns when the tenant takes more than 80% of memory or CPU", async () => {
    const violations = await check(tierHostHeadroom, starter, withHost({ memoryMb: 1800 }));
    expect(violations.map((v) => [v.level, v.message])).toEqual([
      [
        "advisory",
        'Tenant "acme": the starter tier takes 85% of the memory and 19% of the CPU of host ssh://root@127.0.0.1:2222 (1800 MB, 8 CPU), leaving less than 20% headroom; plan a bigger host.',
      ],
    ]);
    expect(await check(tierHostHeadroom, starter, withHost({ cpus: 1.6 }))).toHaveLength(1);
  });

  it("leaves a tenant that does not fit at all to tier-fits-host", async () => {
    expect(await check(tierHostHeadroom, starter, withHost({ memoryMb: 1024 }))).toEqual([]);
  });
});
