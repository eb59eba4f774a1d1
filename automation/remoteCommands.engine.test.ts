/**
 * The foundation's end-to-end check: the real Pulumi engine, driven through the
 * Automation API, runs @pulumi/command remote commands against a Dokku host over
 * SSH. State is checked only through Dokku's own commands.
 */
import { readFileSync } from "node:fs";
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dokkuCommandLine, encodeConfigValue } from "../components/dokku/commandLine.ts";
import { runDokku } from "../testing/dokkuClient.ts";
import { dokkuTarget } from "../testing/dokkuTarget.ts";
import { type EngineStack, engineStack, hostKeyOf } from "../testing/engineStack.ts";

const target = dokkuTarget();
const suffix = `${process.pid}-${Date.now().toString(36)}`;
const app = `engine-${suffix}`;
const network = `engine-net-${suffix}`;
const value = 'it\'s a value with spaces, $(id) and "quotes"';

async function dokkuJson<T>(cmd: string): Promise<T> {
  const result = await runDokku(target, cmd, { quiet: true });
  expect(result.code, `${cmd}: ${result.stderr}`).toBe(0);
  return JSON.parse(result.stdout) as T;
}

function program() {
  const connection = {
    host: target.host,
    port: target.port,
    user: target.user,
    privateKey: pulumi.secret(readFileSync(target.keyPath, "utf8")),
    hostKey: hostKeyOf(target),
  };
  const net = new command.remote.Command("network", {
    connection,
    create: dokkuCommandLine("network:create", [network]),
    delete: dokkuCommandLine("network:destroy", [network], ["--force"]),
    addPreviousOutputInEnv: false,
  });
  const created = new command.remote.Command(
    "app",
    {
      connection,
      create: dokkuCommandLine("apps:create", [app]),
      delete: dokkuCommandLine("apps:destroy", [app], ["--force"]),
      addPreviousOutputInEnv: false,
    },
    { dependsOn: [net] },
  );
  const attach = new command.remote.Command(
    "attach",
    {
      connection,
      create: dokkuCommandLine("network:set", [app, "initial-network", network]),
      addPreviousOutputInEnv: false,
    },
    { dependsOn: [created] },
  );
  new command.remote.Command(
    "config",
    {
      connection,
      create: dokkuCommandLine(
        "config:set",
        ["--encoded", "--no-restart", app, `GREETING=${encodeConfigValue(value)}`],
        ["--quiet"],
      ),
      addPreviousOutputInEnv: false,
      logging: "none",
    },
    { dependsOn: [attach] },
  );
  return Promise.resolve({ app });
}

describe("the real engine drives remote commands on the Dokku host", () => {
  let engine: EngineStack;

  // Other test files share the host and create apps concurrently, so only this
  // test's own app and network are compared.
  async function ownAppsOnHost(): Promise<string[]> {
    const apps = await dokkuJson<string[]>("apps:list --format json");
    return apps.filter((name) => name === app);
  }
  async function networkExists(): Promise<boolean> {
    return (await runDokku(target, `network:exists ${network}`, { quiet: true })).code === 0;
  }

  beforeAll(async () => {
    engine = await engineStack("foundation", `remote-${suffix}`, program);
  });
  afterAll(async () => {
    await engine?.stack.destroy().catch(() => undefined);
    engine?.dispose();
  });

  it("previews five creates (four commands and the stack) without touching the host", async () => {
    const preview = await engine.stack.preview();
    expect(preview.changeSummary).toEqual({ create: 5 });
    expect(await ownAppsOnHost()).toEqual([]);
    expect(await networkExists()).toBe(false);
  });

  it("creates the app, its network and config on up", async () => {
    const up = await engine.stack.up();
    expect(up.summary.result).toBe("succeeded");
    expect(up.summary.resourceChanges).toEqual({ create: 5 });
    expect(up.outputs.app?.value).toBe(app);
    expect(await ownAppsOnHost()).toEqual([app]);
    expect(await networkExists()).toBe(true);
    const report = await dokkuJson<Record<string, string>>(`network:report ${app} --format json`);
    expect(report["initial-network"]).toBe(network);
    const config = await dokkuJson<Record<string, string>>(`config:export --format json ${app}`);
    expect(config.GREETING).toBe(value);
  });

  it("changes nothing on a second up", async () => {
    const again = await engine.stack.up();
    expect(again.summary.resourceChanges).toEqual({ same: 5 });
  });

  it("removes everything on destroy", async () => {
    const destroyed = await engine.stack.destroy();
    expect(destroyed.summary.resourceChanges).toEqual({ delete: 5 });
    expect(await ownAppsOnHost()).toEqual([]);
    expect(await networkExists()).toBe(false);
  });
});
