/**
 * The real `bin/mindroom-ops` binary against the Dokku test host: output,
 * `--json`, the diff with old ⇒ new values, and the exit codes an engine run
 * gives (4, 5, 7, 8, 9; the others are in cli.test.ts).
 */
import { execFile, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { tenantNames } from "../../components/tenantNames.ts";
import { parseTenantSpec } from "../../components/tenantSpec.ts";
import { seedHosts } from "../../database/hosts.ts";
import { testDatabase } from "../../testing/database.ts";
import { runDokku } from "../../testing/dokkuClient.ts";
import { dokkuTarget } from "../../testing/dokkuTarget.ts";
import { SAMPLE_ROOT_SECRET } from "../../testing/tenantSamples.ts";
import { hostSpec } from "../../testing/tenantStacks.ts";
import { loadAutomationSettings } from "../settings.ts";
import { openCoordination, TenantStacks } from "../tenantStacks.ts";

const target = dokkuTarget();
const bin = resolve(import.meta.dirname, "..", "..", "bin", "mindroom-ops");
const dataDir = mkdtempSync(join(tmpdir(), "mindroom-cli-"));
// Tenant leases and shared stack config: the platform database, as an operator's CLI has it.
const db = await testDatabase();
const env = {
  ...process.env,
  DATABASE_URL: db.url,
  MINDROOM_DATA_DIR: dataDir,
  MINDROOM_ROOT_SECRET: SAMPLE_ROOT_SECRET,
  DOKKU_SSH_KEY: target.keyPath,
  DOKKU_HOSTS: target.shellUrl,
  MINDROOM_AUTOMATION_WORKERS: "2",
};

function ops(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return opsWith({}, ...args);
}

function opsWith(
  extra: NodeJS.ProcessEnv,
  ...args: string[]
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = execFile(
      bin,
      args,
      { env: { ...env, ...extra }, maxBuffer: 32 << 20 },
      (error, stdout, stderr) =>
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

/** A tenant whose spec breaks a mandatory policy (its host's address is not the known one). */
const blockedSpec = hostSpec(target, `clip-${process.pid.toString(36)}`, {
  host: { ...(spec.host as { url: string; hostKey: string; address: string }), address: "203.0.113.99" },
});
const blockedFile = join(dataDir, "blocked.json");
writeFileSync(blockedFile, JSON.stringify(blockedSpec));
/** A tenant whose every command fails: the host presents another key than the spec pins. */
const brokenSpec = hostSpec(target, `clik-${process.pid.toString(36)}`, {
  host: {
    ...(spec.host as { url: string; hostKey: string; address: string }),
    hostKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHbUvl1RvwK5nwrmxBnjLfZGLhUQnQpmc7TEUkrpy8Xz",
  },
});
const brokenFile = join(dataDir, "broken.json");
writeFileSync(brokenFile, JSON.stringify(brokenSpec));

afterAll(async () => {
  await ops("destroy", tenant, "--yes");
  await ops("destroy", String(blockedSpec.slug), "--yes");
  await ops("destroy", String(brokenSpec.slug), "--yes");
  await db.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe("mindroom-ops", { timeout: 600_000 }, () => {
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

  it("diffs a pending change as old ⇒ new with secrets masked, and --expect-no-changes exits 7 on it", {
    timeout: 600_000,
  }, async () => {
    expect((await ops("preview", tenant, "--expect-no-changes")).code).toBe(0);
    // A pending change the way an operator gets one: the tenant's config rewritten (another plan,
    // and a rotated SSH key, a secret), without an up.
    const settings = loadAutomationSettings(env);
    const coordination = openCoordination(settings);
    const stacks = await TenantStacks.open(settings, undefined, coordination);
    const key = readFileSync(target.keyPath, "utf8");
    const secrets = { rootSecret: SAMPLE_ROOT_SECRET, sshPrivateKey: key };
    await stacks.ensure({ ...spec, tier: "free" }, { ...secrets, sshPrivateKey: `${key}\n` });
    try {
      const diff = await ops("diff", tenant);
      expect(diff.code, diff.stderr).toBe(0);
      expect(diff.stdout).toMatch(/~ {2}command:remote:Command\s+tenant-runtime-limits {2}update/);
      expect(diff.stdout).toMatch(/^ {12}- .*resource:limit.*--memory.*\b1024\b.*$/m);
      expect(diff.stdout).toMatch(/^ {12}\+ .*resource:limit.*--memory.*\b512\b.*$/m);
      // The connection holds the (rotated) private key: the whole value is a secret.
      expect(diff.stdout).toContain('~ connection: "[secret]" ⇒ "[secret]"');
      expect(diff.stdout).not.toContain("ciphertext");
      for (const secret of [SAMPLE_ROOT_SECRET, key.split("\n")[1] ?? "BEGIN"])
        expect(diff.stdout).not.toContain(secret);
      const json = await ops("diff", tenant, "--json", "--expect-no-changes");
      expect(json.code).toBe(7);
      const steps = (
        JSON.parse(json.stdout) as {
          steps: { resource: string; changes: { path: string; old?: unknown; new?: unknown }[] }[];
        }
      ).steps;
      const limits = steps.find((s) => s.resource === "tenant-runtime-limits");
      expect(limits?.changes.find((c) => c.path === "create")).toMatchObject({
        old: expect.stringMatching(/resource:limit.*--memory.*\b1024\b/),
        new: expect.stringMatching(/resource:limit.*--memory.*\b512\b/),
      });
    } finally {
      await stacks.ensure(spec, secrets);
      await coordination.leases.close();
      await coordination.configs.close();
    }
    expect((await ops("preview", tenant, "--expect-no-changes")).code).toBe(0);
  });

  it("exits 9 when the operation runs out of time and 8 when it is cancelled", {
    timeout: 600_000,
  }, async () => {
    // A drift check of this tenant can take under a second on the test host, so its Dokku reads are
    // held: the 1 s limit cannot come after it finished, nor the interrupt, which waits until a read
    // is held, however fast the machine. (A real host is slow enough by itself.)
    const held = () => target.faults?.hold(new RegExp(tenant));
    const holdingSlow = await held();
    try {
      const slow = await opsWith({ MINDROOM_OPERATION_TIMEOUT: "1" }, "drift", tenant, "--json");
      expect(slow.code).toBe(9);
      expect(JSON.parse(slow.stdout)).toMatchObject({ status: "failed", error: { kind: "Timeout" } });
    } finally {
      await holdingSlow?.release();
    }

    const holdingCancelled = await held();
    try {
      const child = spawn(bin, ["drift", tenant], { env, stdio: ["ignore", "pipe", "pipe"] });
      let stderr = "";
      const started = new Promise<void>((resolve) =>
        child.stderr.on("data", (chunk: Buffer) => {
          stderr += chunk.toString();
          if (stderr.includes(`${tenant}: drift…`)) resolve();
        }),
      );
      const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
      await started;
      if (holdingCancelled)
        await expect.poll(() => holdingCancelled.reached(), { timeout: 60_000 }).toBeGreaterThan(0);
      child.kill("SIGINT");
      expect(await exited).toBe(8);
      expect(stderr).toContain("cancelling");
    } finally {
      await holdingCancelled?.release();
    }
  });

  it("exits 5 when a policy blocks the operation, with the violation in the result", {
    timeout: 600_000,
  }, async () => {
    const applied = await ops("apply", blockedFile, "--json");
    expect(applied.code, applied.stderr).toBe(5);
    expect(JSON.parse(applied.stdout).policyViolations).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ policy: "tenant-on-known-host", level: "mandatory" }),
      ]),
    );
    const preview = await ops("diff", String(blockedSpec.slug));
    expect(preview.code).toBe(5);
    expect(preview.stdout).toContain("[mandatory] tenant-on-known-host");
    expect((await ops("destroy", String(blockedSpec.slug), "--yes")).code).toBe(0);
  });

  it("exits 4 when a resource operation fails", { timeout: 600_000 }, async () => {
    const applied = await ops("apply", brokenFile, "--json");
    expect(applied.code, applied.stderr).toBe(4);
    expect(JSON.parse(applied.stdout)).toMatchObject({ status: "failed", policyViolations: [] });
    // The host key put right and applied (the state's connections carry the key too), whatever the
    // failed up created can be deleted.
    const settings = loadAutomationSettings(env);
    const coordination = openCoordination(settings);
    const stacks = await TenantStacks.open(settings, undefined, coordination);
    await stacks
      .ensure(
        { ...brokenSpec, host: spec.host },
        { rootSecret: SAMPLE_ROOT_SECRET, sshPrivateKey: readFileSync(target.keyPath, "utf8") },
      )
      .finally(async () => {
        await coordination.leases.close();
        await coordination.configs.close();
      });
    const repaired = await ops("up", String(brokenSpec.slug), "--json");
    expect(repaired.code, repaired.stderr).toBe(0);
    const destroyed = await ops("destroy", String(brokenSpec.slug), "--yes");
    expect(destroyed.code, destroyed.stdout).toBe(0);
  });

  it("reports drift with exit code 7, shows it in the table, and up repairs it", {
    timeout: 600_000,
  }, async () => {
    expect((await ops("drift", tenant)).code).toBe(0);
    await runDokku(target, `resource:limit --memory 77 ${names.homeserverApp}`, { quiet: true });
    const drift = await ops("drift", "--all");
    expect(drift.code).toBe(7);
    expect(drift.stdout).toContain("tenant-homeserver: limits: expected memory=512");
    const json = await ops("drift", tenant, "--json");
    expect(json.code).toBe(7);
    expect(JSON.parse(json.stdout).drift).toEqual([
      expect.objectContaining({ id: "tenant-homeserver: limits" }),
    ]);
    expect((await ops("list")).stdout).toMatch(new RegExp(`${tenant}.*1 drifted`));

    const diff = await ops("diff", tenant, "--expect-no-changes");
    expect(diff.code).toBe(7);
    const up = await ops("up", tenant, "--json");
    expect(JSON.parse(up.stdout)).toMatchObject({ status: "succeeded", changes: { update: 1 } });
    expect((await ops("drift", tenant)).code).toBe(0);
  });

  it("previews with the policy pack's hosts from the hosts table, not DOKKU_HOSTS", {
    timeout: 600_000,
  }, async () => {
    const { hosts } = loadAutomationSettings({ DOKKU_HOSTS: target.shellUrl, MINDROOM_DATA_DIR: dataDir });
    await seedHosts(db.pool, hosts, new Map());
    // DOKKU_HOSTS names another host only: the pack would not know the tenant's host from it.
    const preview = await opsWith({ DOKKU_HOSTS: "ssh://root@192.0.2.10:22" }, "preview", tenant, "--json");
    expect(preview.code, preview.stdout + preview.stderr).toBe(0);
    const violations = JSON.parse(preview.stdout).policyViolations as { level: string }[];
    expect(violations.filter((v) => v.level === "mandatory")).toEqual([]);
  });

  it("refuses to destroy without confirmation, then destroys with -y", { timeout: 600_000 }, async () => {
    const refused = await ops("destroy", tenant);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain("--yes");
    // No DOKKU_HOSTS at all: the hosts table (seeded above) is the fleet the pack knows.
    const destroyed = await opsWith({ DOKKU_HOSTS: "" }, "destroy", tenant, "-y", "--json");
    expect(destroyed.code, destroyed.stderr).toBe(0);
    expect(JSON.parse(destroyed.stdout)).toMatchObject({ operation: "destroy", status: "succeeded" });
    expect(
      (JSON.parse((await ops("list", "--json")).stdout) as { tenant: string }[]).map((r) => r.tenant),
    ).not.toContain(tenant);
    expect((await ops("outputs", tenant)).code).toBe(6);
  });
});
