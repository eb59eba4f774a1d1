/**
 * The real `bin/mindroom-ops` where no engine run is needed: --help of every command, usage errors,
 * an unexpected error, a missing tenant, and colour following NO_COLOR,
 * FORCE_COLOR and --no-color. The codes an engine run produces (4, 5, 7, 8, 9)
 * are in cli.engine.test.ts.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { SAMPLE_ROOT_SECRET } from "../../testing/tenantSamples.ts";

const bin = resolve(import.meta.dirname, "..", "..", "bin", "mindroom-ops");
const dataDir = mkdtempSync(join(tmpdir(), "mindroom-cli-codes-"));
const base: NodeJS.ProcessEnv = {
  PATH: process.env.PATH,
  HOME: process.env.HOME,
  MINDROOM_DATA_DIR: dataDir,
  MINDROOM_ROOT_SECRET: SAMPLE_ROOT_SECRET,
  // The policy pack needs a host pool; nothing here contacts it.
  DOKKU_HOSTS: "ssh://root@127.0.0.1:1?memoryMb=4096&cpus=2",
  MINDROOM_AUTOMATION_WORKERS: "1",
};

function ops(
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = execFile(bin, args, { env: { ...base, ...env } }, (error, stdout, stderr) =>
      done({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
    child.stdin?.end();
  });
}

afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

/** Every command bin/mindroom-ops runs, whichever module serves it. */
const COMMANDS = [
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
  "state",
  "sweep",
  "jobs",
  "usage",
  "hosts",
];

// biome-ignore lint/suspicious/noControlCharactersInRegex: colour codes are what is looked for.
const ANSI = /\u001b\[[0-9;]*m/;

describe("mindroom-ops exit codes and terminal conventions", { timeout: 120_000 }, () => {
  it("lists every command, the exit codes and the colour rules in --help; each command has its own", async () => {
    const help = await ops(["--help"]);
    expect(help.code).toBe(0);
    for (const cmd of COMMANDS) {
      expect(help.stdout).toMatch(new RegExp(`^  ${cmd}\\b`, "m"));
      const one = await ops([cmd, "--help"]);
      expect([cmd, one.code, one.stdout]).toEqual([cmd, 0, expect.stringContaining(`mindroom-ops ${cmd}`)]);
    }
    expect(help.stdout).toContain("-y/--yes");
    expect(help.stdout).toContain("--expect-no-changes");
    expect(help.stdout).toContain("NO_COLOR");
    expect(help.stdout).toMatch(
      /2 usage or configuration error,\s+4 a resource operation failed, 5 blocked by a policy, 6 no such tenant\/stack, 7 changes or drift\s+found/,
    );
    for (const cmd of ["sweep", "jobs", "usage"])
      expect((await ops([cmd, "--help"])).stdout).toContain("Exit codes");
  });

  it("exits 2 on usage errors, saying what is wrong", async () => {
    for (const args of [
      [],
      ["frobnicate"],
      ["up"],
      ["list", "--bogus"],
      ["preview", "x", "--color=purple"],
      ["apply"],
      ["state"],
      ["state", "import", "acme"],
      ["state", "rebuild"],
    ]) {
      const run = await ops(args);
      expect([args, run.code]).toEqual([args, 2]);
      expect(run.stderr).toMatch(/^mindroom-ops: error: .+\nRun 'mindroom-ops --help' for usage\.\n$/);
    }
    const destroy = await ops(["destroy", "acme"]);
    expect([destroy.code, destroy.stderr]).toEqual([2, expect.stringContaining("destroy needs --yes")]);
  });

  it("exits 1 on an unexpected error, never 2 or 7", async () => {
    const file = join(dataDir, "not-a-folder");
    writeFileSync(file, "");
    const run = await ops(["drift", "acme"], { MINDROOM_DATA_DIR: file });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/ENOTDIR|not a directory/);
  });

  it("exits 6 for a tenant without a stack, for reads and operations alike", async () => {
    const outputs = await ops(["outputs", "nosuchtenant"]);
    expect([outputs.code, outputs.stderr]).toEqual([
      6,
      expect.stringContaining("no stack for tenant nosuchtenant"),
    ]);
    const preview = await ops(["preview", "nosuchtenant", "--json"]);
    expect(preview.code).toBe(6);
    expect(JSON.parse(preview.stdout)).toMatchObject({
      status: "failed",
      error: { kind: "TenantNotFoundError" },
    });
  });

  it("refuses to rebuild a stack from nothing: a tenant without config exits 1", async () => {
    const run = await ops(["state", "rebuild", "nosuchtenant", "--json"]);
    expect(run.code).toBe(1);
    expect(JSON.parse(run.stdout)).toMatchObject({
      operation: "rebuild",
      status: "failed",
      error: { kind: "StackRebuildRefusedError", message: expect.stringContaining("no stack config") },
    });
  });

  it("colours only for a terminal or FORCE_COLOR, never with NO_COLOR or --no-color", async () => {
    const plain = await ops(["preview", "nosuchtenant"]);
    expect(plain.code).toBe(6);
    expect(plain.stdout).toContain("nosuchtenant preview failed");
    expect(plain.stdout).not.toMatch(ANSI);
    const forced = await ops(["preview", "nosuchtenant"], { FORCE_COLOR: "1" });
    expect(forced.stdout).toMatch(ANSI);
    expect((await ops(["preview", "nosuchtenant", "--no-color"], { FORCE_COLOR: "1" })).stdout).not.toMatch(
      ANSI,
    );
    expect((await ops(["preview", "nosuchtenant"], { NO_COLOR: "1" })).stdout).not.toMatch(ANSI);
    expect((await ops(["preview", "nosuchtenant", "--color=always"], { NO_COLOR: "1" })).stdout).toMatch(
      ANSI,
    );
  });
});
