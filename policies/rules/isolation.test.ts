import { beforeAll, describe, expect, it } from "vitest";
import { SAMPLE_ZONE, sampleSpecInput } from "../../testing/tenantSamples.ts";
import { TYPES } from "../resourceTypes.ts";
import { check, editInputs, messages, recordTenant, withChild } from "../testing/fixtures.ts";
import type { SampleResource } from "../testing/validationArgs.ts";
import { appsOnTenantNetwork, databasesLinkedWithinTenant, tenantNamesCarrySlug } from "./isolation.ts";

/** Every kind of resource a tenant has: Synapse with both services, DNS, backups. */
let full: SampleResource[];
beforeAll(async () => {
  full = await recordTenant(
    sampleSpecInput({
      homeserver: "synapse",
      dns: { enabled: true, zoneId: SAMPLE_ZONE, proxied: true },
      backups: { enabled: true, bucket: "mindroom-backups", region: "eu-central-1" },
    }),
  );
});

describe("tenant-names-carry-slug", () => {
  it("passes every resource of a full tenant", async () => {
    expect(await check(tenantNamesCarrySlug, full)).toEqual([]);
  });

  it.each([
    [
      "tenant-network",
      { network: "net-other" },
      'Network tenant-network: network "net-other" is not the tenant\'s (expected net-acme); derive names with tenantNames(slug).',
    ],
    [
      "tenant-postgres",
      { service: "pg-other" },
      'Service tenant-postgres: postgres service "pg-other" is not the tenant\'s (expected pg-acme); derive names with tenantNames(slug).',
    ],
    [
      "tenant-runtime",
      { app: "mr-other" },
      'App tenant-runtime: app "mr-other" is not the tenant\'s (expected mr-acme or mx-acme or bk-acme or br-tg-acme or br-wa-acme or br-dc-acme or br-sl-acme); derive names with tenantNames(slug).',
    ],
    [
      "tenant-runtime-tls",
      { app: "mr-other" },
      'Tls tenant-runtime-tls: TLS app "mr-other" is not the tenant\'s (expected mr-acme or mx-acme or bk-acme); derive names with tenantNames(slug).',
    ],
    [
      "tenant-postgres-backup",
      { service: "pg-other" },
      'ServiceBackup tenant-postgres-backup: backed-up service "pg-other" is not the tenant\'s (expected pg-acme or redis-acme); derive names with tenantNames(slug).',
    ],
    [
      "tenant-backup-credentials",
      { slug: "other" },
      'Credentials tenant-backup-credentials: backup credentials slug "other" is not the tenant\'s (expected acme); derive names with tenantNames(slug).',
    ],
    [
      "tenant-backup-credentials-user",
      { name: "mindroom-backup-other" },
      'User tenant-backup-credentials-user: IAM user "mindroom-backup-other" is not the tenant\'s (expected mindroom-backup-acme); derive names with tenantNames(slug).',
    ],
  ] as const)("refuses %s named for another tenant", async (name, change, message) => {
    const resources = editInputs(full, name, (p) => ({ ...p, ...change }));
    expect(messages(await check(tenantNamesCarrySlug, resources))).toEqual([`Tenant "acme": ${message}`]);
  });

  it("refuses another tenant's storage mounted by the backup job", async () => {
    const resources = editInputs(full, "tenant-backup", (p) => ({
      ...p,
      foreignMounts: [{ entry: "data-mr-other", containerDir: "/backup/runtime", readonly: true }],
    }));
    expect(messages(await check(tenantNamesCarrySlug, resources))).toEqual([
      'Tenant "acme": App tenant-backup: storage entry "data-mr-other" is not the tenant\'s (expected data-mr-acme or data-mx-acme or data-br-tg-acme or data-br-wa-acme or data-br-dc-acme or data-br-sl-acme); derive names with tenantNames(slug).',
    ]);
  });

  it("refuses a resource outside any tenant", async () => {
    const resources = withChild(full, undefined, {
      type: TYPES.command,
      name: "stray",
      inputs: { create: "true" },
    });
    expect(messages(await check(tenantNamesCarrySlug, resources))).toEqual([
      "No tenant: Command stray belongs to no MindRoomTenant; create it inside the tenant's component.",
    ]);
  });

  it("refuses every name of a tenant whose slug is invalid", async () => {
    const resources = editInputs(full, "tenant", (p) => ({
      ...p,
      spec: { ...(p.spec as object), slug: "Acme Corp" },
    }));
    const found = messages(await check(tenantNamesCarrySlug, resources));
    expect(found.length).toBeGreaterThan(10);
    expect(new Set(found)).toEqual(
      new Set([
        'Tenant "Acme Corp": its slug "Acme Corp" is not a valid slug, so no name can carry it; fix the spec\'s slug.',
      ]),
    );
  });
});

describe("apps-on-tenant-network", () => {
  it("passes apps and services on the tenant's network", async () => {
    expect(await check(appsOnTenantNetwork, full)).toEqual([]);
  });

  it("refuses an app or a service on another network", async () => {
    const app = editInputs(full, "tenant-homeserver", (p) => ({ ...p, network: "net-other" }));
    expect(messages(await check(appsOnTenantNetwork, app))).toEqual([
      'Tenant "acme": app mx-acme attaches to network "net-other", not the tenant\'s own net-acme; attach it to that network only.',
    ]);
    const service = editInputs(full, "tenant-redis", (p) => ({ ...p, network: "bridge" }));
    expect(messages(await check(appsOnTenantNetwork, service))).toEqual([
      'Tenant "acme": service redis-acme attaches to network "bridge", not the tenant\'s own net-acme; attach it to that network only.',
    ]);
  });
});

describe("databases-linked-within-tenant", () => {
  it("passes Synapse linked to the tenant's own Postgres and Redis", async () => {
    expect(await check(databasesLinkedWithinTenant, full)).toEqual([]);
  });

  it("refuses a link to another tenant's database, or to a kind of service the tenant has none of", async () => {
    const resources = editInputs(full, "tenant-homeserver", (p) => ({
      ...p,
      services: [
        { kind: "postgres", service: "pg-other" },
        { kind: "mysql", service: "mysql-acme" },
      ],
    }));
    expect(messages(await check(databasesLinkedWithinTenant, resources))).toEqual([
      'Tenant "acme": app mx-acme is linked to postgres service "pg-other", which is not the tenant\'s own (pg-acme); link only the tenant\'s services.',
      'Tenant "acme": app mx-acme is linked to mysql service "mysql-acme", which is not the tenant\'s own (none of that kind); link only the tenant\'s services.',
    ]);
  });
});
