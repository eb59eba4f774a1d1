/**
 * Model provider keys through the real engine against the Dokku test host:
 * they reach the runtime's environment and nothing else, a replaced key
 * changes only the runtime's config (what a preview shows), and they stay out
 * of the stack's plain state and of every command line the host saw.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import type { EngineEvent } from "@pulumi/pulumi/automation/index.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runDokku } from "../testing/dokkuClient.ts";
import { dokkuTarget } from "../testing/dokkuTarget.ts";
import type { EngineStack } from "../testing/engineStack.ts";
import { configure, hostSpec, tenantStack } from "../testing/tenantStacks.ts";
import { tenantNames } from "./tenantNames.ts";
import { parseTenantSpec } from "./tenantSpec.ts";

const target = dokkuTarget();
const slug = `keys-${process.pid.toString(36)}${Math.floor(Math.random() * 1e4).toString(36)}`;
const spec = hostSpec(target, slug);
const runtime = tenantNames(parseTenantSpec(spec).slug).runtimeApp;
const FIRST = `sk-first-${"a1".repeat(20)}`;
const SECOND = `sk-second-${"b2".repeat(20)}`;
let engine: EngineStack;

async function setKeys(keys: Record<string, string>) {
  await configure(engine, target, spec);
  await engine.stack.setConfig("mindroom:providerKeys", { value: JSON.stringify(keys), secret: true });
}

async function runtimeEnv(): Promise<Record<string, string>> {
  const result = await runDokku(target, `config:export --format json ${runtime}`, { quiet: true });
  return JSON.parse(result.stdout) as Record<string, string>;
}

/** Every resource (components too) a preview would change. */
async function previewChanges(): Promise<string[]> {
  const changed: string[] = [];
  await engine.stack.preview({
    onEvent: (e: EngineEvent) => {
      const m = e.resourcePreEvent?.metadata;
      if (m && m.op !== "same" && m.type !== "pulumi:pulumi:Stack")
        changed.push(m.urn.split("::").pop() ?? "");
    },
  });
  return changed.sort();
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

beforeAll(async () => {
  engine = await tenantStack(target, spec);
});
afterAll(async () => {
  await engine?.stack.destroy().catch(() => undefined);
  engine?.dispose();
});

describe("model provider keys", { timeout: 600_000 }, () => {
  it("reach the runtime's environment, and only the runtime's", async () => {
    await setKeys({ OPENAI_API_KEY: FIRST });
    expect((await engine.stack.up()).summary.result).toBe("succeeded");
    const env = await runtimeEnv();
    expect(env).toMatchObject({
      OPENAI_API_KEY: FIRST,
      ANTHROPIC_API_KEY: "",
      OPENROUTER_API_KEY: "",
      GOOGLE_API_KEY: "",
    });
    const homeserver = await runDokku(target, `config:export --format json mx-${slug}`, { quiet: true });
    expect(homeserver.stdout).not.toContain(FIRST);
  });

  it("replaced, change only the runtime's config", async () => {
    await setKeys({ OPENAI_API_KEY: SECOND });
    // The runtime app's component records a digest of its config; the config command is what runs.
    expect(await previewChanges()).toEqual(["tenant-runtime", "tenant-runtime-config"]);
    expect((await engine.stack.up()).summary.result).toBe("succeeded");
    expect((await runtimeEnv()).OPENAI_API_KEY).toBe(SECOND);
  });

  it("removed, leave the runtime's variable empty", async () => {
    await setKeys({});
    expect((await engine.stack.up()).summary.result).toBe("succeeded");
    expect((await runtimeEnv()).OPENAI_API_KEY).toBe("");
  });

  it("never appear in the stack's state or config files, nor in a command line the host saw", async () => {
    for (const file of filesUnder(engine.backendDir)) {
      const text = readFileSync(file, "utf8");
      expect(text.includes(FIRST) || text.includes(SECOND), file).toBe(false);
    }
    const log = (await target.commandLog?.()) ?? [];
    const lines = JSON.stringify(log);
    expect(lines.includes(FIRST) || lines.includes(SECOND)).toBe(false);
  });
});
