import { beforeAll, describe, expect, it } from "vitest";
import { sampleSpecInput } from "../../testing/tenantSamples.ts";
import { TYPES } from "../resourceTypes.ts";
import { check, messages, recordTenant, without, withStackOutputs } from "../testing/fixtures.ts";
import { recordSample } from "../testing/runs.ts";
import { sampleSettings } from "../testing/samples.ts";
import type { SampleResource } from "../testing/validationArgs.ts";
import { oneTenantPerStack, portalOutputsPresent } from "./stack.ts";

let tenant: SampleResource[];
beforeAll(async () => {
  tenant = await recordTenant(sampleSpecInput({ homeserver: "synapse" }));
});

describe("one-tenant-per-stack", () => {
  it("passes a stack with one tenant", async () => {
    expect(await check(oneTenantPerStack, tenant)).toEqual([]);
  });

  it("refuses two tenants, or none", async () => {
    const two = await recordSample({
      title: "two",
      spec: sampleSpecInput(),
      moreTenants: [sampleSpecInput({ slug: "beta" })],
      settings: sampleSettings(),
      engine: false,
    });
    expect(messages(await check(oneTenantPerStack, two))).toEqual([
      'Tenant "acme": the stack holds 2 MindRoomTenant resources (acme, beta); give each tenant its own stack.',
    ]);
    const none = tenant.filter((r) => r.type === TYPES.stack);
    expect(messages(await check(oneTenantPerStack, none))).toEqual([
      "No tenant: the stack holds 0 MindRoomTenant resources (none); give each tenant its own stack.",
    ]);
  });
});

describe("portal-outputs-present", () => {
  it("passes the stack program's outputs", async () => {
    expect(await check(portalOutputsPresent, tenant)).toEqual([]);
  });

  it("lists everything missing or misstated, in one report on the stack", async () => {
    const resources = withStackOutputs(tenant, ({ urls: _u, limits: _l, ...o }) => ({
      ...o,
      slug: "beta",
      status: "paused",
    }));
    const found = await check(portalOutputsPresent, resources);
    expect(messages(found)).toEqual([
      'Tenant "acme": the stack outputs lack or misstate what the portal reads: slug ("beta", expected the tenant\'s slug "acme"); ' +
        'status ("paused", expected "running" or "suspended"); urls.app (null, expected https://acme.mindroom.test); ' +
        "urls.api (null, expected https://acme.api.mindroom.test); urls.matrix (null, expected https://acme.matrix.mindroom.test); " +
        "limits.agents (null, expected a number or unlimited); limits.messagesPerDay (null, expected a number or unlimited); " +
        "limits.storageGb (null, expected a number or unlimited); limits.runtime (null, expected the runtime's memory and CPU); " +
        "limits.homeserver (null, expected the homeserver's memory and CPU).",
    ]);
    expect(found[0]?.urn).toMatch(/pulumi:pulumi:Stack::/);
  });

  it("refuses outputs of another tier than the spec's", async () => {
    const resources = withStackOutputs(tenant, (o) => ({ ...o, tier: "enterprise" }));
    expect(messages(await check(portalOutputsPresent, resources))).toEqual([
      'Tenant "acme": the stack outputs lack or misstate what the portal reads: tier ("enterprise", expected the tenant\'s tier starter).',
    ]);
  });

  it("has nothing to judge without a stack resource", async () => {
    const resources = without(tenant, tenant.find((r) => r.type === TYPES.stack)?.name ?? "");
    expect(await check(portalOutputsPresent, resources)).toEqual([]);
  });
});
