/**
 * The tenant program runs unchanged from the pulumi CLI through Pulumi.yaml, the
 * way an operator previews a tenant in a checkout.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { pulumiEnv, toolsDir } from "../automation/pulumiToolchain.ts";
import { SAMPLE_ROOT_SECRET, sampleSpecInput } from "../testing/tenantSamples.ts";

const run = promisify(execFile);
const repo = resolve(import.meta.dirname, "..");
const backend = mkdtempSync(join(tmpdir(), "mindroom-cli-"));
const stack = `cli-${process.pid}`;
const env = {
  ...process.env,
  ...pulumiEnv(),
  PULUMI_BACKEND_URL: `file://${backend}`,
  PULUMI_CONFIG_PASSPHRASE: "cli-test-passphrase",
};
const pulumi = (...args: string[]) =>
  run(join(toolsDir(), "pulumi", "bin", "pulumi"), [...args, "--non-interactive"], {
    cwd: repo,
    env,
    maxBuffer: 16 << 20,
  });

afterAll(async () => {
  await pulumi("stack", "rm", stack, "--yes", "--force").catch(() => undefined);
  rmSync(join(repo, ".data", "stacks", `Pulumi.${stack}.yaml`), { force: true });
  rmSync(backend, { recursive: true, force: true });
});

describe("pulumi preview -s <tenant> in a checkout", () => {
  it("runs the tenant program through Pulumi.yaml and shows the tenant's resources", async () => {
    await pulumi("stack", "init", stack);
    await pulumi(
      "config",
      "set",
      "-s",
      stack,
      "mindroom:tenant",
      JSON.stringify(sampleSpecInput({ tier: "professional" })),
    );
    await pulumi("config", "set", "-s", stack, "--secret", "mindroom:rootSecret", SAMPLE_ROOT_SECRET);
    await pulumi("config", "set", "-s", stack, "--secret", "mindroom:sshPrivateKey", "not-used-by-a-preview");
    const { stdout } = await pulumi("preview", "-s", stack, "--json");
    const preview = JSON.parse(stdout) as { changeSummary: Record<string, number>; steps: { urn: string }[] };
    expect(preview.changeSummary.create).toBe(24);
    const types = new Set(preview.steps.map((s) => s.urn.split("::")[2]?.split("$").pop()));
    expect([...types].sort()).toEqual(
      [
        "command:remote:Command",
        "mindroom:dokku:App",
        "mindroom:dokku:Network",
        "mindroom:dokku:Tls",
        "mindroom:index:MindRoomTenant",
        "pulumi:pulumi:Stack",
      ].sort(),
    );
    expect(stdout).not.toContain(SAMPLE_ROOT_SECRET);
  });

  it("refuses an invalid tenant spec with every problem listed", async () => {
    await pulumi(
      "config",
      "set",
      "-s",
      stack,
      "mindroom:tenant",
      JSON.stringify(sampleSpecInput({ slug: "Bad Slug", tier: "gold" as never })),
    );
    const failure = await pulumi("preview", "-s", stack).then(
      () => undefined,
      (error: { stdout: string }) => error.stdout,
    );
    expect(failure).toMatch(/invalid tenant spec/);
    expect(failure).toMatch(/slug: invalid slug "Bad Slug"/);
    expect(failure).toMatch(/tier:/);
  });
});
