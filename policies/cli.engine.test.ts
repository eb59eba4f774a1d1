/**
 * The README's operator recipe, step by step: the pulumi CLI in a checkout
 * previews one tenant with the pack (`--policy-pack "$PWD/policies/analyzer"
 * --policy-pack-config …`), with the config written by policies/writeConfig.ts.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type PulumiCli, pulumiCli, REPO } from "../testing/pulumiCli.ts";
import { sampleSpecInput } from "../testing/tenantSamples.ts";
import { SAMPLE_HOST } from "./testing/samples.ts";

const run = promisify(execFile);
const scratch = mkdtempSync(join(tmpdir(), "mindroom-policy-cli-"));
let cli: PulumiCli;
beforeAll(async () => {
  cli = await pulumiCli(`policy-cli-${process.pid}`);
});
afterAll(async () => {
  await cli?.dispose();
  rmSync(scratch, { recursive: true, force: true });
});

describe("pulumi preview -s <tenant> --policy-pack policies/analyzer (README, Policies)", () => {
  it("passes a conforming tenant and names the policy a non-conforming one breaks", async () => {
    const { pulumi, stack } = cli;
    await cli.configureTenant(sampleSpecInput({ homeserver: "synapse" }));

    const settings = join(scratch, "policy-settings.json");
    writeFileSync(
      settings,
      JSON.stringify({ baseDomain: "mindroom.test", environment: "test", hosts: [SAMPLE_HOST] }),
    );
    const { stdout: rootSecret } = await pulumi("config", "get", "-s", stack, "mindroom:rootSecret");
    const { stdout: configPath } = await run(
      process.execPath,
      ["policies/writeConfig.ts", settings, join(scratch, "policy")],
      {
        cwd: REPO,
        env: { ...process.env, MINDROOM_ROOT_SECRET: rootSecret.trim() },
      },
    );
    const config = configPath.trim();
    expect(config).toMatch(/\/policy\/[0-9a-f]{16}\.json$/);

    const pack = ["--policy-pack", join(REPO, "policies", "analyzer"), "--policy-pack-config", config];
    const passed = await pulumi("preview", "-s", stack, ...pack);
    expect(passed.stdout).toMatch(/mindroom-tenant@v0\.1\.0/);
    expect(passed.stdout).not.toMatch(/\[mandatory\]/);

    await pulumi(
      "config",
      "set",
      "-s",
      stack,
      "mindroom:tenant",
      JSON.stringify(sampleSpecInput({ environment: "staging" })),
    );
    const failed = await pulumi("preview", "-s", stack, ...pack).then(
      () => undefined,
      (error: { stdout: string; code: number }) => error,
    );
    expect(failed?.code).not.toBe(0);
    expect(failed?.stdout).toMatch(
      /\[mandatory\]\s+tenant-environment-matches\s+\(mindroom:index:MindRoomTenant: tenant\)/,
    );
    expect(failed?.stdout).toContain(
      'Tenant "acme": its spec says environment "staging", but this platform is test',
    );
  });
});
