/**
 * `mindroom-ops state rebuild` on the real engine against the Dokku test host:
 * a tenant is provisioned, its stack state and this machine's workspace are
 * deleted (a lost stack; the config survives in the platform database), the
 * rebuild runs no command on the host (its command log), and the next up
 * changes nothing (`--expect-no-changes` exits 0).
 */
import { execFile } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { testDatabase } from "../testing/database.ts";
import { dokkuTarget } from "../testing/dokkuTarget.ts";
import { SAMPLE_ROOT_SECRET } from "../testing/tenantSamples.ts";
import { hostSpec } from "../testing/tenantStacks.ts";
import { PROJECT } from "./tenantWorkspaces.ts";

const target = dokkuTarget();
const bin = resolve(import.meta.dirname, "..", "bin", "mindroom-ops");
const dataDir = mkdtempSync(join(tmpdir(), "mindroom-rebuild-"));
const stateDir = join(dataDir, "state");
const db = await testDatabase();
const env = {
  ...process.env,
  DATABASE_URL: db.url,
  MINDROOM_DATA_DIR: dataDir,
  // A file backend, so that the test can lose the stack's state the way a deleted object loses it.
  PULUMI_BACKEND_URL: `file://${stateDir}`,
  MINDROOM_ROOT_SECRET: SAMPLE_ROOT_SECRET,
  DOKKU_SSH_KEY: target.keyPath,
  DOKKU_HOSTS: target.shellUrl,
  MINDROOM_AUTOMATION_WORKERS: "1",
};

function ops(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = execFile(bin, args, { env, maxBuffer: 32 << 20 }, (error, stdout, stderr) =>
      done({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
    child.stdin?.end();
  });
}

const spec = hostSpec(target, `reb-${process.pid.toString(36)}`);
const tenant = String(spec.slug);
const specFile = join(dataDir, "spec.json");
writeFileSync(specFile, JSON.stringify(spec));

/** Deletes the stack's checkpoint (with its backups and history) and this machine's workspace of it. */
function loseStack(): void {
  const stacks = join(stateDir, ".pulumi", "stacks", PROJECT);
  for (const name of readdirSync(stacks))
    if (name === `${tenant}.json` || name.startsWith(`${tenant}.json.`)) rmSync(join(stacks, name));
  for (const dir of ["backups", "history"])
    rmSync(join(stateDir, ".pulumi", dir, PROJECT, tenant), { recursive: true, force: true });
  rmSync(join(dataDir, "workspaces", tenant), { recursive: true, force: true });
}

/** The host's commands since `from` that name this tenant (other test files share the host). */
async function tenantCommands(from: number): Promise<string[]> {
  const log = (await target.commandLog?.()) ?? [];
  return log
    .slice(from)
    .map((c) => c.argv.join(" "))
    .filter((line) => line.includes(tenant));
}

afterAll(async () => {
  await ops("destroy", tenant, "--yes");
  await db.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe("mindroom-ops state rebuild", { timeout: 900_000 }, () => {
  it("re-adopts a running tenant into its lost stack without touching the host; the next up changes nothing", {
    timeout: 900_000,
  }, async () => {
    const applied = await ops("apply", specFile, "--json");
    expect(applied.code, applied.stderr).toBe(0);
    const before = JSON.parse((await ops("outputs", tenant, "--json")).stdout) as Record<string, unknown>;

    loseStack();
    const lost = await ops("outputs", tenant);
    expect([lost.code, lost.stderr]).toEqual([6, expect.stringContaining(`no stack for tenant ${tenant}`)]);

    const logged = (await target.commandLog?.())?.length ?? 0;
    const rebuilt = await ops("state", "rebuild", tenant, "--json");
    expect(rebuilt.code, rebuilt.stderr).toBe(0);
    const result = JSON.parse(rebuilt.stdout) as {
      operation: string;
      status: string;
      changes: { create?: number };
    };
    expect(result).toMatchObject({ operation: "rebuild", status: "succeeded" });
    expect(result.changes.create).toBeGreaterThan(10);
    if (target.commandLog) expect(await tenantCommands(logged)).toEqual([]);

    expect(JSON.parse((await ops("outputs", tenant, "--json")).stdout)).toEqual(before);
    const up = await ops("up", tenant, "--expect-no-changes", "--json");
    expect(up.code, up.stdout + up.stderr).toBe(0);
    expect(JSON.parse(up.stdout)).toMatchObject({
      status: "succeeded",
      changes: { same: expect.any(Number) },
    });

    // A second rebuild finds a stack that holds the tenant: refused, nothing run.
    const again = await ops("state", "rebuild", tenant, "--json");
    expect(again.code).toBe(1);
    expect(JSON.parse(again.stdout)).toMatchObject({
      status: "failed",
      error: {
        kind: "StackRebuildRefusedError",
        message: expect.stringContaining("a rebuild only fills an empty"),
      },
    });
  });
});
