/**
 * docs/production.md followed where it can be here: every command it shows exists (each
 * `bin/mindroom-ops <command>` answers --help), and the ones that need no real Stripe, Supabase or
 * cloud account are run as shown: the root secret, the configuration check, production's refusal
 * of local defaults and the rollout list. The platform stack's commands (hosts add and cordon of the
 * control host, platform preview, up and outputs) are run as shown by
 * control/platformStack.engine.test.ts.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type TestDatabase, testDatabase } from "../testing/database.ts";

const ROOT = resolve(import.meta.dirname, "..");
const GUIDE = readFileSync(resolve(ROOT, "docs", "production.md"), "utf8");

/** Every command line of the guide's sh blocks, comments and line continuations removed. */
const COMMANDS = [...GUIDE.matchAll(/```sh\n([\s\S]*?)```/g)].flatMap((m) =>
  (m[1] as string)
    .split("\n")
    .map((line) => line.replace(/\s+#.*$/, "").trim())
    .filter((line) => line !== "" && !line.startsWith("#")),
);

function sh(line: string, env: NodeJS.ProcessEnv) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((done) => {
    execFile("bash", ["-c", line], { cwd: ROOT, env, timeout: 600_000 }, (error, stdout, stderr) =>
      done({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

const dataDir = mkdtempSync(join(tmpdir(), "production-guide-"));
let db: TestDatabase;
const bare = (extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv => ({
  PATH: process.env.PATH,
  HOME: process.env.HOME,
  MINDROOM_TEST_RUN: process.env.MINDROOM_TEST_RUN,
  MINDROOM_DATA_DIR: dataDir,
  ...extra,
});

beforeAll(async () => {
  db = await testDatabase();
});
afterAll(async () => {
  await db?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe("docs/production.md", () => {
  it("shows only commands that exist", async () => {
    expect(COMMANDS.length).toBeGreaterThan(10);
    const ops = new Set(COMMANDS.map((c) => /bin\/mindroom-ops (\S+)/.exec(c)?.[1]).filter(Boolean));
    expect([...ops].sort()).toEqual(["config", "hosts", "operators", "platform", "rollout"]);
    for (const command of ops) {
      const help = await sh(`bin/mindroom-ops ${command} --help`, bare({}));
      expect(help.code, `${command}: ${help.stderr}`).toBe(0);
      expect(help.stdout).toContain("Usage: mindroom-ops");
    }
    for (const line of COMMANDS)
      expect(line, line).toMatch(
        /^(bin\/mindroom-ops |\.\/platform |dokku |openssl |MINDROOM_ENVIRONMENT=production \.\/platform )/,
      );
  });

  it("generates the root secret as shown", async () => {
    const line = COMMANDS.find((c) => c.startsWith("openssl")) as string;
    expect((await sh(line, bare({}))).stdout.trim()).toMatch(/^[0-9a-f]{64}$/);
  });

  it("checks the configuration, then production refuses local defaults, as shown", async () => {
    const check = await sh(
      COMMANDS.find((c) => c.startsWith("bin/mindroom-ops config check")) as string,
      bare({}),
    );
    expect(check.code, check.stderr).toBe(0);
    expect(check.stdout).toContain("MINDROOM_ENVIRONMENT");
    const serve = await sh(
      COMMANDS.find((c) => c.startsWith("MINDROOM_ENVIRONMENT=production")) as string,
      bare({}),
    );
    expect(serve.code).toBe(1);
    expect(serve.stderr).toMatch(/MINDROOM_ENVIRONMENT=production refuses \d+ local defaults:/);
    expect(serve.stderr).toContain("Nothing was started.");
  });

  it("lists rollouts as shown", async () => {
    const list = await sh(
      COMMANDS.find((c) => c === "bin/mindroom-ops rollout --list") as string,
      bare({ DATABASE_URL: db.url }),
    );
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toMatch(/^ID +STATUS +IMAGE/);
  });
});
