/**
 * `./platform serve` refuses before it starts anything: with local defaults in
 * production (every problem in one message), and without the parts it must
 * not stand in for.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { providerPluginProblems } from "../automation/providerPlugins.ts";
import { PRODUCTION_SHAPED } from "../testing/productionConfig.ts";

const PLATFORM = resolve(import.meta.dirname, "..", "platform");
/** The provider plugins are one more problem where they are not installed (as on this project's CI). */
const PLUGIN_PROBLEMS = providerPluginProblems().length;

/** The environment without any of the platform's configuration (the test runner's own is dropped). */
function bare(extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const keep = ["PATH", "HOME", "LANG", "TMPDIR"];
  return {
    ...Object.fromEntries(keep.filter((k) => process.env[k]).map((k) => [k, process.env[k]])),
    ...extra,
  };
}

function serve(env: NodeJS.ProcessEnv, args: string[] = []) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((done) => {
    execFile(PLATFORM, ["serve", ...args], { env, timeout: 300_000 }, (error, stdout, stderr) =>
      done({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe("./platform serve", () => {
  it("with local defaults in production, exits 1 with one message listing every problem, starting nothing", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "serve-refused-"));
    const result = await serve(bare({ MINDROOM_ENVIRONMENT: "production", MINDROOM_DATA_DIR: dataDir }));
    expect(result.code).toBe(1);
    const message = result.stderr.slice(result.stderr.indexOf("platform: MINDROOM_ENVIRONMENT"));
    expect(message).toMatch(
      new RegExp(
        `^platform: MINDROOM_ENVIRONMENT=production refuses ${23 + PLUGIN_PROBLEMS} local defaults:\n`,
      ),
    );
    for (const name of [
      "MINDROOM_ROOT_SECRET is unset",
      "PULUMI_BACKEND_URL is unset (the data folder's object store or file backend)",
      "no passphrase is set",
      "DATABASE_URL is unset (an embedded Postgres",
      "STRIPE_SECRET_KEY is unset (the local Stripe API's test key)",
      "STRIPE_WEBHOOK_SECRET is unset (a secret generated",
      "MINDROOM_AUTH_PROVIDER is not supabase (the local auth server",
      "MINDROOM_BRIDGE_IMAGES is unset (example images)",
      "CLOUDFLARE_ZONE_ID is unset",
      "MINDROOM_BACKUP_BUCKET is unset",
      "SMTP_URL is unset (the local Mailpit)",
    ])
      expect(message).toContain(name);
    if (PLUGIN_PROBLEMS > 0) expect(message).toContain("run ./platform setup --providers, or PULUMI_HOME=");
    expect(message).toContain("Nothing was started.");
    expect(result.stdout).not.toContain("webhook service");
    // Nothing was generated either: no root secret, passphrase or webhook secret in the data folder.
    expect(readdirSync(dataDir)).toEqual([]);
  });

  it("reads the .env file, and names only what is still wrong", async () => {
    const dir = mkdtempSync(join(tmpdir(), "serve-env-"));
    const { SMTP_URL: _, ...almost } = PRODUCTION_SHAPED;
    writeFileSync(
      join(dir, "production.env"),
      Object.entries({ ...almost, MINDROOM_POLICIES: "off" })
        .map(([k, v]) => `${k}='${v}'`)
        .join("\n"),
    );
    const result = await serve(
      bare({ MINDROOM_ENV_FILE: join(dir, "production.env"), MINDROOM_DATA_DIR: dir }),
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      `refuses ${2 + PLUGIN_PROBLEMS} local defaults:\n  - MINDROOM_POLICIES=off`,
    );
    expect(result.stderr).toContain("  - SMTP_URL is unset (the local Mailpit)");
  });

  it("outside production, still starts no stand-in: it names the parts it needs", async () => {
    const result = await serve(bare({ MINDROOM_DATA_DIR: mkdtempSync(join(tmpdir(), "serve-parts-")) }));
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("DATABASE_URL is unset: serve starts no embedded Postgres");
    expect(result.stderr).toContain("SUPABASE_URL is unset: serve starts no local auth server");
    expect(result.stderr).toContain("SMTP_URL is unset: serve starts no local Mailpit");
    expect((await serve(bare({}), ["--only", "everything"])).code).toBe(2);
  });
});
