import { beforeAll, describe, expect, it } from "vitest";
import { SAMPLE_ZONE, sampleSpecInput } from "../../testing/tenantSamples.ts";
import { check, editInputs, messages, recordTenant, without } from "../testing/fixtures.ts";
import { SAMPLE_HOST, sampleSettings } from "../testing/samples.ts";
import type { SampleResource } from "../testing/validationArgs.ts";
import {
  dnsPointsAtKnownHosts,
  dnsProxiedAsConfigured,
  domainsUnderBaseDomain,
  tlsOnPublicDomains,
} from "./domains.ts";

/** A tenant with DNS (proxied, as the sample host is configured). */
let dns: SampleResource[];
beforeAll(async () => {
  dns = await recordTenant(sampleSpecInput({ dns: { enabled: true, zoneId: SAMPLE_ZONE, proxied: true } }));
});

describe("domains-under-base-domain", () => {
  it("passes a tenant whose every domain is its own under the base domain", async () => {
    expect(await check(domainsUnderBaseDomain, dns)).toEqual([]);
  });

  it("refuses a tenant under another base domain, on every resource that names a domain", async () => {
    const found = messages(
      await check(domainsUnderBaseDomain, dns, sampleSettings({ baseDomain: "mindroom.chat" })),
    );
    expect(found[0]).toBe(
      'Tenant "acme": its base domain is "mindroom.test", not the platform\'s mindroom.chat; set the spec\'s baseDomain to it.',
    );
    // 2 apps + 2 TLS (3 domains each way) + 3 records and their 3 Cloudflare records.
    expect(found.slice(1)).toHaveLength(12);
    expect(found).toContain(
      'Tenant "acme": App tenant-runtime names acme.api.mindroom.test, which is not under mindroom.chat; serve only the tenant\'s own domains.',
    );
  });

  it("refuses a domain under the base that is not the tenant's", async () => {
    const resources = editInputs(dns, "tenant-dns-api-record", (p) => ({
      ...p,
      name: "beta.api.mindroom.test",
    }));
    expect(messages(await check(domainsUnderBaseDomain, resources))).toEqual([
      'Tenant "acme": DnsRecord tenant-dns-api-record names beta.api.mindroom.test, which is not one of the tenant\'s domains (acme.mindroom.test, acme.api.mindroom.test, acme.matrix.mindroom.test); serve only those.',
    ]);
  });
});

describe("tls-on-public-domains", () => {
  it("passes Let's Encrypt and origin certificates on every served domain", async () => {
    expect(await check(tlsOnPublicDomains, dns)).toEqual([]);
    const origin = await recordTenant(sampleSpecInput({ tls: { mode: "origin-certificate" } }), {
      origin: true,
    });
    expect(await check(tlsOnPublicDomains, origin)).toEqual([]);
  });

  it("refuses a served domain no certificate covers", async () => {
    const resources = editInputs(dns, "tenant-runtime-tls", (p) => ({
      ...p,
      domains: ["acme.mindroom.test"],
    }));
    const found = await check(tlsOnPublicDomains, resources);
    expect(messages(found)).toEqual([
      'Tenant "acme": app mr-acme serves acme.api.mindroom.test without TLS; add a Tls (letsencrypt or origin-certificate) for it.',
    ]);
    expect(found[0]?.urn).toMatch(/mindroom:dokku:App::tenant-runtime$/);
  });

  it("refuses an app whose TLS is gone, or of an unknown mode", async () => {
    expect(await check(tlsOnPublicDomains, without(dns, "tenant-homeserver-tls"))).toHaveLength(1);
    const plain = editInputs(dns, "tenant-homeserver-tls", (p) => ({ ...p, mode: "none" }));
    expect(messages(await check(tlsOnPublicDomains, plain))).toEqual([
      'Tenant "acme": app mx-acme serves acme.matrix.mindroom.test without TLS; add a Tls (letsencrypt or origin-certificate) for it.',
    ]);
  });

  it("does not ask TLS of an app nobody reaches (no web domains)", async () => {
    const backups = await recordTenant(
      sampleSpecInput({ backups: { enabled: true, bucket: "mindroom-backups", region: "eu-central-1" } }),
    );
    expect(await check(tlsOnPublicDomains, backups)).toEqual([]);
  });
});

describe("dns-points-at-known-hosts", () => {
  it("passes A records at the tenant's known host", async () => {
    expect(await check(dnsPointsAtKnownHosts, dns)).toEqual([]);
  });

  it("refuses a record at an address no known host has", async () => {
    const resources = editInputs(dns, "tenant-dns-app-record", (p) => ({ ...p, content: "198.51.100.99" }));
    expect(messages(await check(dnsPointsAtKnownHosts, resources))).toEqual([
      'Tenant "acme": DnsRecord tenant-dns-app-record (acme.mindroom.test) points at 198.51.100.99, which is no known Dokku host (known: 203.0.113.10); point it at the tenant\'s host.',
    ]);
  });

  it("refuses a record type other than A/AAAA", async () => {
    const resources = editInputs(dns, "tenant-dns-app-record", (p) => ({
      ...p,
      type: "CNAME",
      content: "elsewhere.example",
    }));
    expect(messages(await check(dnsPointsAtKnownHosts, resources))).toEqual([
      'Tenant "acme": DnsRecord tenant-dns-app-record (acme.mindroom.test) is a CNAME record; only A/AAAA records to a known host are allowed.',
    ]);
  });

  it("refuses a record at another known host than the tenant's", async () => {
    const other = { ...SAMPLE_HOST, url: "ssh://root@10.0.0.2:22", address: "203.0.113.20" };
    const resources = editInputs(dns, "tenant-dns-matrix", (p) => ({ ...p, address: "203.0.113.20" }));
    expect(
      messages(
        await check(dnsPointsAtKnownHosts, resources, sampleSettings({ hosts: [SAMPLE_HOST, other] })),
      ),
    ).toEqual([
      'Tenant "acme": Record tenant-dns-matrix (acme.matrix.mindroom.test) points at 203.0.113.20, but the tenant lives on ssh://root@127.0.0.1:2222 at 203.0.113.10; point it there.',
    ]);
  });
});

describe("dns-proxied-as-configured", () => {
  it("passes records proxied as their host is configured, either way", async () => {
    expect(await check(dnsProxiedAsConfigured, dns)).toEqual([]);
    const direct = await recordTenant(
      sampleSpecInput({ dns: { enabled: true, zoneId: SAMPLE_ZONE, proxied: false } }),
    );
    expect(
      await check(
        dnsProxiedAsConfigured,
        direct,
        sampleSettings({ hosts: [{ ...SAMPLE_HOST, proxied: false }] }),
      ),
    ).toEqual([]);
  });

  it("refuses records that bypass the proxy the host sits behind", async () => {
    const found = messages(
      await check(
        dnsProxiedAsConfigured,
        dns,
        sampleSettings({ hosts: [{ ...SAMPLE_HOST, proxied: false }] }),
      ),
    );
    expect(found).toHaveLength(6);
    expect(found).toContain(
      'Tenant "acme": DnsRecord tenant-dns-api-record (acme.api.mindroom.test) has proxied=true, but host ssh://root@127.0.0.1:2222 is configured proxied=false; set the tenant\'s dns.proxied to match.',
    );
  });
});
