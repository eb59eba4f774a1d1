/**
 * The analyzer runs the bundled pack only while every file the bundle was
 * built from is unchanged, index.ts otherwise, and setup's build brings a
 * stale bundle up to date. The pack's behaviour through the bundle is what
 * pack.engine.test.ts and cli.engine.test.ts check (./platform test builds it).
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  BUNDLE_FILE,
  buildAnalyzerBundle,
  bundleIsFresh,
  INPUTS_FILE,
  leftOutModule,
} from "./analyzerBundle.ts";
import { ANALYZER_PATH } from "./packOptions.ts";

const run = promisify(execFile);
const scratch = mkdtempSync(join(tmpdir(), "mindroom-analyzer-bundle-"));
const built = join(scratch, "built");
const started: ChildProcess[] = [];

beforeAll(async () => {
  await buildAnalyzerBundle(built);
}, 300_000);

afterAll(async () => {
  await Promise.all(started.map(stop));
  rmSync(scratch, { recursive: true, force: true });
});

/** A copy of the built bundle, to alter without touching the others'. */
function copyOfBundle(name: string): string {
  const dir = join(scratch, name);
  cpSync(built, dir, { recursive: true });
  return dir;
}

/** Records a different digest for the pack's own entry point, as after an edit to index.ts. */
function recordEditedSource(dir: string): void {
  const record = readFileSync(join(dir, INPUTS_FILE), "utf8");
  const edited = record.replace(/^[0-9a-f]{64}(?= {2}policies\/index\.ts$)/m, "0".repeat(64));
  expect(edited).not.toBe(record);
  writeFileSync(join(dir, INPUTS_FILE), edited);
}

/** Starts policies/analyzer with this bundle folder; resolves with the script Node runs once the pack serves. */
async function analyzerEntry(bundleDir: string): Promise<string> {
  const child = spawn(ANALYZER_PATH, [], {
    env: { ...process.env, MINDROOM_ANALYZER_BUNDLE: bundleDir },
    stdio: ["pipe", "pipe", "pipe"],
  });
  started.push(child);
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  // The pack prints its port once it serves; the shell script has exec'd Node by then.
  const port = await new Promise<string>((resolve, reject) => {
    child.stdout?.once("data", (chunk: Buffer) => resolve(chunk.toString().trim()));
    child.once("error", reject);
    child.once("exit", (code) => reject(new Error(`policies/analyzer exited with ${code}: ${stderr}`)));
  });
  expect(port).toMatch(/^\d+$/);
  const argv = readFileSync(`/proc/${child.pid}/cmdline`, "utf8").split("\0").filter(Boolean);
  await stop(child);
  return argv.at(-1) ?? "";
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill();
  await exited;
}

describe("the policy analyzer's bundle", () => {
  it("runs while the files it was built from are unchanged", async () => {
    expect(bundleIsFresh(built)).toBe(true);
    const record = readFileSync(join(built, INPUTS_FILE), "utf8");
    // The pack's own modules, the rules among them, and the lock that fixes its dependencies.
    expect(record).toMatch(/ {2}policies\/index\.ts$/m);
    expect(record).toMatch(/ {2}policies\/rules\/isolation\.ts$/m);
    expect(record).toMatch(/ {2}package-lock\.json$/m);
    expect(record).not.toMatch(/node_modules/);
    expect(await analyzerEntry(built)).toBe(join(built, BUNDLE_FILE));
  }, 120_000);

  it("is not used once a source changed: the analyzer runs index.ts", async () => {
    const stale = copyOfBundle("stale");
    recordEditedSource(stale);
    expect(bundleIsFresh(stale)).toBe(false);
    expect(await analyzerEntry(stale)).toBe("index.ts");
  }, 120_000);

  it("is not used when a file it was built from is gone, or it is missing", async () => {
    const gone = copyOfBundle("gone");
    writeFileSync(
      join(gone, INPUTS_FILE),
      `${readFileSync(join(gone, INPUTS_FILE), "utf8")}${"0".repeat(64)}  policies/removed.ts\n`,
    );
    expect(bundleIsFresh(gone)).toBe(false);
    expect(await analyzerEntry(gone)).toBe("index.ts");

    const missing = copyOfBundle("missing");
    rmSync(join(missing, BUNDLE_FILE));
    expect(bundleIsFresh(missing)).toBe(false);
    expect(await analyzerEntry(missing)).toBe("index.ts");
  }, 120_000);

  it("is rebuilt by setup's step when stale, and left alone when fresh", async () => {
    const stale = copyOfBundle("rebuilt");
    recordEditedSource(stale);
    const build = (dir: string) =>
      run(process.execPath, [join(import.meta.dirname, "analyzerBundle.ts"), dir], { timeout: 300_000 });
    expect((await build(stale)).stderr).toMatch(/bundling the policy analyzer/);
    expect(bundleIsFresh(stale)).toBe(true);
    expect(await analyzerEntry(stale)).toBe(join(stale, BUNDLE_FILE));
    expect((await build(stale)).stderr).toBe("");
  }, 300_000);

  it("stands in for a left-out package with a module that loads and fails once used", () => {
    const module = { exports: undefined as unknown };
    new Function("module", leftOutModule("typescript"))(module);
    const stub = module.exports as Record<string, unknown> & ((...args: unknown[]) => unknown);
    // What module interop reads on import.
    expect(stub.__esModule).toBeUndefined();
    expect(() => stub.createSourceFile).toThrow(/typescript is left out of the policy analyzer's bundle/);
    expect(() => stub()).toThrow(/typescript is left out/);
  });
});
