/**
 * The policy pack on the platform stack (stacks/platform/), recorded under
 * mocks with its Cloudflare and AWS parts: the whole pack passes on it (its
 * apps have TLS, are pinned by digest, keep secrets on stdin), the root secret
 * may reach the worker's environment and nothing else, and tenants stay out of it.
 */
import { describe, expect, it } from "vitest";
import { ControlPlane } from "../components/platform/controlPlane.ts";
import { MindRoomTenant } from "../components/tenant.ts";
import { samplePlatformSpec } from "../testing/platformSamples.ts";
import { SAMPLE_ROOT_SECRET, sampleSpec } from "../testing/tenantSamples.ts";
import { runPolicies } from "./testing/harness.ts";
import { recordProgram } from "./testing/mockRun.ts";
import { packConfigOf, SAMPLE_HOST, SAMPLE_SSH_KEY, sampleSettings } from "./testing/samples.ts";

const spec = samplePlatformSpec({
  host: {
    url: SAMPLE_HOST.url,
    hostKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMockMockMockMockMockMockMockMockMockMockMock",
    address: SAMPLE_HOST.address,
  },
  domains: { webhooks: "hooks.mindroom.test", portal: "app.mindroom.test" },
});

async function violationsOf(options: { portalRootSecret?: boolean; withTenant?: boolean } = {}) {
  const run = await recordProgram(
    () => {
      const controlPlane = new ControlPlane("platform", {
        spec,
        sshPrivateKey: SAMPLE_SSH_KEY,
        environments: {
          webhooks: {
            DATABASE_URL: "postgres://worker@db/mindroom",
            MINDROOM_ROOT_SECRET: SAMPLE_ROOT_SECRET,
          },
          portal: {
            DATABASE_URL: "postgres://portal@db/mindroom",
            ...(options.portalRootSecret ? { MINDROOM_ROOT_SECRET: SAMPLE_ROOT_SECRET } : {}),
          },
        },
      });
      if (options.withTenant)
        new MindRoomTenant("tenant", {
          spec: sampleSpec(),
          rootSecret: SAMPLE_ROOT_SECRET,
          sshPrivateKey: SAMPLE_SSH_KEY,
        });
      return { ...controlPlane.outputs };
    },
    { project: "mindroom-platform", stack: "production" },
  );
  const violations = await runPolicies(
    run.resources,
    packConfigOf(sampleSettings({ environment: "production" })),
  );
  return violations.filter((v) => v.level === "mandatory");
}

describe("the policy pack on the platform stack", () => {
  it("passes: no mandatory violation", async () => {
    expect(await violationsOf()).toEqual([]);
  });

  it("refuses the root secret anywhere but the worker's environment", async () => {
    const violations = await violationsOf({ portalRootSecret: true });
    expect(violations.map((v) => v.policy)).toEqual(["root-secret-stays-out"]);
    expect(violations[0]?.message).toContain("platform-portal-config");
  });

  it("keeps tenants out of the platform stack", async () => {
    const violations = await violationsOf({ withTenant: true });
    expect(violations.map((v) => v.policy)).toContain("one-tenant-per-stack");
  });
});
