/**
 * A Matrix bridge through the real engine against the Dokku test host: enabled, it is an app of
 * the tenant on the tenant's network with its storage, and the homeserver's storage holds its
 * appservice registration, listed in homeserver.yaml; disabled, the app, its storage and its
 * registration are gone. Observed only through Dokku's own commands and the storage entry.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runDokku } from "../testing/dokkuClient.ts";
import { dokkuTarget } from "../testing/dokkuTarget.ts";
import type { EngineStack } from "../testing/engineStack.ts";
import { configure, hostSpec, tenantStack } from "../testing/tenantStacks.ts";
import { EXAMPLE_BRIDGE_IMAGES } from "./exampleTenant.ts";
import { parseSlug, tenantNames } from "./tenantNames.ts";

const target = dokkuTarget();
const slug = `brg-${process.pid.toString(36)}${Math.floor(Math.random() * 1e4).toString(36)}`;
const names = tenantNames(parseSlug(slug));
const withTelegram = hostSpec(target, slug, {
  homeserver: "synapse",
  bridges: [{ kind: "telegram", image: EXAMPLE_BRIDGE_IMAGES.telegram }],
});
const without = hostSpec(target, slug, { homeserver: "synapse" });
let engine: EngineStack;

async function dokku(command: string) {
  return runDokku(target, command, { quiet: true });
}

async function homeserverFolder(): Promise<string> {
  const info = await dokku(`storage:info ${names.homeserverStorage} --format json`);
  expect(info.code, info.stderr).toBe(0);
  return (JSON.parse(info.stdout) as { host_path: string }).host_path;
}

beforeAll(async () => {
  engine = await tenantStack(target, withTelegram);
});
afterAll(async () => {
  await engine?.stack.destroy().catch(() => undefined);
  engine?.dispose();
});

describe("a Matrix bridge", { timeout: 600_000 }, () => {
  it("enabled: its app runs on the tenant network and the homeserver lists its registration", async () => {
    const up = await engine.stack.up();
    expect(up.summary.result).toBe("succeeded");
    expect((await dokku(`apps:exists ${names.bridgeApps.telegram}`)).code).toBe(0);
    const network = await dokku(`network:report ${names.bridgeApps.telegram} --format json`);
    expect((JSON.parse(network.stdout) as Record<string, string>)["initial-network"]).toBe(names.network);
    const folder = await homeserverFolder();
    expect(existsSync(join(folder, "appservices", "telegram.yaml"))).toBe(true);
    expect(readFileSync(join(folder, "homeserver.yaml"), "utf8")).toContain("appservices/telegram.yaml");
  });

  it("disabled: the app, its storage and its registration are gone", async () => {
    await configure(engine, target, without);
    const up = await engine.stack.up();
    expect(up.summary.result).toBe("succeeded");
    expect((await dokku(`apps:exists ${names.bridgeApps.telegram}`)).code).not.toBe(0);
    expect((await dokku(`storage:info ${names.bridgeStorage.telegram} --format json`)).code).not.toBe(0);
    const folder = await homeserverFolder();
    expect(readdirSync(join(folder, "appservices"))).toEqual([]);
    expect(readFileSync(join(folder, "homeserver.yaml"), "utf8")).not.toContain("telegram");
  });
});
