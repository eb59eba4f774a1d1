/**
 * A host stack on the real engine against a Dokku test host of its own, made
 * bare like a fresh Dokku (no redis or letsencrypt plugin, no renewal cron, no
 * global domain): preview shows the plan and changes nothing, up installs and
 * verifies what tenants need, the host becomes ready (checked through Dokku's
 * own commands), and a second up changes nothing.
 */
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AutomationSettings, loadAutomationSettings } from "../automation/settings.ts";
import { findHostByUrl, isSchedulable } from "../database/hosts.ts";
import { type DokkuHost, startDokkuHost } from "../dokku-double/host.ts";
import { type TestDatabase, testDatabase } from "../testing/database.ts";
import { runDokku } from "../testing/dokkuClient.ts";
import { runHostStack } from "./hostStacks.ts";
import { addHost } from "./hosts.ts";

const isRoot = process.getuid?.() === 0;
const ACTOR = "operator:ops@example.com";

describe.skipIf(!isRoot)(`a host stack${isRoot ? "" : " (skipped: needs root to run sshd)"}`, () => {
  let db: TestDatabase;
  let host: DokkuHost;
  let hostDir: string;
  let dataDir: string;
  let settings: AutomationSettings;
  let url: string;
  const asRoot = (command: string) => runDokku({ ...host, user: "root" }, `dokku ${command}`);

  beforeAll(async () => {
    db = await testDatabase();
    mkdirSync("/run/dokku-double", { recursive: true, mode: 0o755 });
    hostDir = mkdtempSync("/run/dokku-double/host-stack-");
    host = await startDokkuHost({ dir: hostDir });
    for (const plugin of ["redis", "letsencrypt"])
      expect((await asRoot(`plugin:uninstall ${plugin}`)).code).toBe(0);
    url = `ssh://root@127.0.0.1:${host.port}`;
    dataDir = mkdtempSync(join(tmpdir(), "host-stack-"));
    settings = loadAutomationSettings({
      MINDROOM_DATA_DIR: dataDir,
      DOKKU_SSH_KEY: host.keyPath,
      MINDROOM_BASE_DOMAIN: "tenants.example.com",
      DOKKU_HOSTS: `${url}?memoryMb=4096&cpus=2`,
    });
    const added = await addHost(db.pool, {
      url,
      confirm: async () => true,
      privateKey: (await import("node:fs")).readFileSync(host.keyPath, "utf8"),
      actor: ACTOR,
    });
    expect(added.probe.readiness.ready).toBe(false);
  });
  afterAll(async () => {
    await host?.stop();
    await db?.close();
    rmSync(hostDir, { recursive: true, force: true });
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("previews what it would install, changing nothing on the host", async () => {
    const { result } = await runHostStack(db.pool, settings, url, "preview", ACTOR);
    expect(result.status, result.error?.message).toBe("succeeded");
    const planned = (result.steps ?? []).filter((s) => s.op === "create").map((s) => s.resource);
    expect(planned).toEqual(
      expect.arrayContaining([
        "host-plugin-postgres",
        "host-plugin-redis",
        "host-plugin-letsencrypt",
        "host-letsencrypt-cron",
        "host-letsencrypt-email",
        "host-global-domain",
        "host-verify",
      ]),
    );
    expect((await asRoot("plugin:installed redis")).code).toBe(1);
  });

  it("up installs and verifies what tenants need; the host becomes ready and takes tenants", async () => {
    const { result, host: checked } = await runHostStack(db.pool, settings, url, "up", ACTOR);
    expect(result.status, result.error?.message).toBe("succeeded");
    expect(result.outputs).toMatchObject({
      url,
      globalDomain: "tenants.example.com",
      plugins: { postgres: "1.48.0", redis: "1.43.0", letsencrypt: "0.25.1" },
    });
    expect(checked.readiness).toMatchObject({ ready: true, problems: [], autorenew: true });
    expect(isSchedulable((await findHostByUrl(db.pool, url)) as never)).toBe(true);
    // Seen through Dokku itself.
    for (const plugin of ["postgres", "redis", "letsencrypt"])
      expect((await asRoot(`plugin:installed ${plugin}`)).code, plugin).toBe(0);
    expect((await asRoot("letsencrypt:cron-job")).stdout).toContain("--remove' to disable");
    expect((await asRoot("--quiet domains:report --global --domains-global-vhosts")).stdout.trim()).toBe(
      "tenants.example.com",
    );
    const installs = (await host.commandLog()).filter((c) => c.argv[0] === "plugin:install");
    expect(installs.map((c) => c.argv.at(-1)).sort()).toEqual(["letsencrypt", "redis"]);
  });

  it("a second up changes nothing, and runs no install", async () => {
    const before = (await host.commandLog()).length;
    const { result } = await runHostStack(db.pool, settings, url, "up", ACTOR);
    expect(result.status, result.error?.message).toBe("succeeded");
    expect(Object.keys(result.changes).filter((op) => op !== "same")).toEqual([]);
    const after = (await host.commandLog()).slice(before);
    expect(after.filter((c) => c.argv[0] === "plugin:install" || c.argv[0] === "domains:set-global")).toEqual(
      [],
    );
  });
});
