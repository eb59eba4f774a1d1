/**
 * The real `bin/mindroom-ops` binary against the Dokku test host: output,
 * `--json` and exit codes of every command.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { tenantNames } from "../../components/tenantNames.ts";
import { parseTenantSpec } from "../../components/tenantSpec.ts";
import { runDokku } from "../../testing/dokkuClient.ts";
import { dokkuTarget } from "../../testing/dokkuTarget.ts";
import { SAMPLE_ROOT_SECRET } from "../../testing/tenantSamples.ts";
import { hostSpec } from "../../testing/tenantStacks.ts";

const target = dokkuTarget();
const bin = resolve(import.meta.dirname, "..", "..", "bin", "mindroom-ops");
const dataDir = mkdtempSync(join(tmpdir(), "mindroom-cli-"));
const env = {
  ...process.env,
  MINDROOM_DATA_DIR: dataDir,
  MINDROOM_ROOT_SECRET: SAMPLE_ROOT_SECRET,
  DOKKU_SSH_KEY: target.keyPath,
  DOKKU_HOSTS: target.shellUrl,
  MINDROOM_AUTOMATION_WORKERS: "2",
};

function ops(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = execFile(bin, args, { env, maxBuffer: 32 << 20 }, (error, stdout, stderr) =>
      done({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
    child.stdin?.end();
  });
}

const spec = hostSpec(target, `cli-${process.pid.toString(36)}`);
const tenant = String(spec.slug);
const names = tenantNames(parseTenantSpec(spec).slug);
const specFile = join(dataDir, "spec.json");
writeFileSync(specFile, JSON.stringify(spec));

afterAll(async () => {
  await ops("destroy", tenant, "--yes");
  rmSync(dataDir, { recursive: true, force: true });
});

describe("mindroom-ops", { timeout: 600_000 }, () => {
  it("prints help for the tool and every command, and refuses unknown ones with exit 2", async () => {
    const help = await ops("--help");
    expect(help.code).toBe(0);
    for (const cmd of [
      "list",
      "preview",
      "diff",
      "drift",
      "up",
      "apply",
      "refresh",
      "destroy",
      "outputs",
      "history",
    ]) {
      expect(help.stdout).toContain(cmd);
      const one = await ops(cmd, "--help");
      expect([one.code, one.stdout]).toEqual([0, expect.stringContaining(`mindroom-ops ${cmd}`)]);
    }
    expect((await ops("frobnicate")).code).toBe(2);
    expect((await ops("up")).code).toBe(2);
    expect((await ops("list", "--bogus")).code).toBe(2);
  });

  it("applies a spec, lists the tenant, previews no changes, and shows outputs and history", {
    timeout: 600_000,
  }, async () => {
    const applied = await ops("apply", specFile, "--json");
    expect(applied.code, applied.stderr).toBe(0);
    expect(JSON.parse(applied.stdout)).toMatchObject({ tenant, operation: "up", status: "succeeded" });

    const list = await ops("list");
    expect(list.stdout).toMatch(/TENANT\s+TIER\s+STATUS\s+HOST\s+LAST UPDATE\s+DRIFT/);
    expect(list.stdout).toMatch(new RegExp(`${tenant}\\s+starter\\s+running`));
    const listJson = JSON.parse((await ops("list", "--json")).stdout) as { tenant: string; tier: string }[];
    expect(listJson.find((r) => r.tenant === tenant)).toMatchObject({ tier: "starter", status: "running" });

    const preview = await ops("preview", tenant, "--json");
    expect(preview.code).toBe(0);
    expect(JSON.parse(preview.stdout)).toMatchObject({
      status: "succeeded",
      changes: { same: expect.any(Number) },
    });
    const text = await ops("preview", tenant);
    expect(text.stdout).toContain(`${tenant} preview succeeded`);

    const outputs = JSON.parse((await ops("outputs", tenant, "--json")).stdout) as Record<string, unknown>;
    expect(outputs).toMatchObject({ slug: tenant, tier: "starter", apps: { runtime: names.runtimeApp } });
    const history = JSON.parse((await ops("history", tenant, "--json")).stdout) as {
      kind: string;
      result: string;
    }[];
    expect(history[0]).toMatchObject({ kind: "update", result: "succeeded" });
  });

  it("reports drift with exit code 2, shows it in the table, and up repairs it", {
    timeout: 600_000,
  }, async () => {
    expect((await ops("drift", tenant)).code).toBe(0);
    await runDokku(target, `resource:limit --memory 77 ${names.homeserverApp}`, { quiet: true });
    const drift = await ops("drift", "--all");
    expect(drift.code).toBe(2);
    expect(drift.stdout).toContain("tenant-homeserver: limits: expected memory=512");
    const json = await ops("drift", tenant, "--json");
    expect(json.code).toBe(2);
    expect(JSON.parse(json.stdout).drift).toEqual([
      expect.objectContaining({ id: "tenant-homeserver: limits" }),
    ]);
    expect((await ops("list")).stdout).toMatch(new RegExp(`${tenant}.*1 drifted`));

    const diff = await ops("diff", tenant);
    expect(diff.code).toBe(0);
    const up = await ops("up", tenant, "--json");
    expect(JSON.parse(up.stdout)).toMatchObject({ status: "succeeded", changes: { update: 1 } });
    expect((await ops("drift", tenant)).code).toBe(0);
  });

  it("refuses to destroy without confirmation, then destroys with --yes", { timeout: 600_000 }, async () => {
    const refused = await ops("destroy", tenant);
    expect(refused.code).toBe(3);
    expect(refused.stderr).toContain("--yes");
    const destroyed = await ops("destroy", tenant, "--yes", "--json");
    expect(destroyed.code, destroyed.stderr).toBe(0);
    expect(JSON.parse(destroyed.stdout)).toMatchObject({ operation: "destroy", status: "succeeded" });
    expect(
      (JSON.parse((await ops("list", "--json")).stdout) as { tenant: string }[]).map((r) => r.tenant),
    ).not.toContain(tenant);
    expect((await ops("outputs", tenant)).code).toBe(1);
  });
});
