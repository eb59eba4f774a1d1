/**
 * The real engine previews the platform stack's program through the policy
 * pack (the analyzer the automation layer runs): it passes, and the root
 * secret in the portal's environment is refused. A preview connects to no host.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { EngineEvent } from "@pulumi/pulumi/automation/index.js";
import { afterAll, describe, expect, it } from "vitest";
import { ControlPlane } from "../components/platform/controlPlane.ts";
import { engineStack } from "../testing/engineStack.ts";
import { samplePlatformSpec } from "../testing/platformSamples.ts";
import { SAMPLE_ROOT_SECRET } from "../testing/tenantSamples.ts";
import { policyPackOptions } from "./packOptions.ts";
import { SAMPLE_HOST, SAMPLE_SSH_KEY, sampleSettings } from "./testing/samples.ts";

const configDir = mkdtempSync(join(tmpdir(), "platform-policy-"));
afterAll(() => rmSync(configDir, { recursive: true, force: true }));

async function preview(portal: Record<string, string>) {
  const spec = samplePlatformSpec({
    environment: "test",
    host: {
      url: SAMPLE_HOST.url,
      hostKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMockMockMockMockMockMockMockMockMockMockMock",
      address: SAMPLE_HOST.address,
    },
    domains: { webhooks: "hooks.mindroom.test", portal: "app.mindroom.test" },
    dns: { enabled: false },
    storage: { enabled: false },
  });
  const engine = await engineStack("mindroom-platform", `policy-${process.pid}`, async () => ({
    ...new ControlPlane("platform", {
      spec,
      sshPrivateKey: SAMPLE_SSH_KEY,
      environments: { webhooks: { MINDROOM_ROOT_SECRET: SAMPLE_ROOT_SECRET }, portal },
    }).outputs,
  }));
  const mandatory: string[] = [];
  try {
    const pack = policyPackOptions(sampleSettings(), configDir);
    const failed = await engine.stack
      .preview({
        ...pack,
        color: "never",
        onEvent: (event: EngineEvent) => {
          const p = event.policyEvent;
          if (p?.enforcementLevel === "mandatory") mandatory.push(p.policyName);
        },
      })
      .then(() => false)
      .catch(() => true);
    return { failed, mandatory };
  } finally {
    await engine.stack.workspace.removeStack(engine.stack.name).catch(() => undefined);
    engine.dispose();
  }
}

describe("the platform stack through the policy pack on the real engine", { timeout: 600_000 }, () => {
  it("passes", async () => {
    expect(await preview({ DATABASE_URL: "postgres://portal@db/mindroom" })).toEqual({
      failed: false,
      mandatory: [],
    });
  });

  it("refuses the root secret in the portal's environment", async () => {
    const run = await preview({ MINDROOM_ROOT_SECRET: SAMPLE_ROOT_SECRET });
    expect(run.failed).toBe(true);
    expect(run.mandatory).toContain("root-secret-stays-out");
  });
});
