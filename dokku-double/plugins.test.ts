/**
 * `plugin:*` on a host of its own: what a fresh Dokku looks like once the
 * community plugins are uninstalled (their commands do not exist), installing
 * them back as root, and root-only refusal on the `dokku@` forced command.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runDokku } from "../testing/dokkuClient.ts";
import { type DokkuHost, startDokkuHost } from "./host.ts";

const isRoot = process.getuid?.() === 0;

describe.skipIf(!isRoot)(`plugin management${isRoot ? "" : " (skipped: needs root to run sshd)"}`, () => {
  let host: DokkuHost;
  const asRoot = (command: string) => runDokku({ ...host, user: "root" }, `dokku ${command}`);
  const asDokku = (command: string) => runDokku(host, command);

  beforeAll(async () => {
    host = await startDokkuHost();
  });
  afterAll(async () => {
    await host?.stop();
  });

  it("lists the community plugins a host has by default, with their versions", async () => {
    const list = await asDokku("plugin:list");
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/^plugn: /);
    expect(list.stdout).toMatch(/^ {2}postgres +1\.48\.0 +enabled/m);
    expect(list.stdout).toMatch(/^ {2}redis +1\.43\.0 +enabled/m);
    expect(list.stdout).toMatch(/^ {2}letsencrypt +0\.25\.1 +enabled/m);
    expect((await asRoot("plugin:installed postgres")).code).toBe(0);
  });

  it("refuses everything but the list to the dokku user: root only", async () => {
    for (const command of ["plugin:uninstall redis", "plugin:installed redis"]) {
      const result = await asDokku(command);
      expect(result).toMatchObject({ code: 1, stderr: " !     This command must be run as root\n" });
    }
    expect((await asRoot("plugin:installed redis")).code).toBe(0);
  });

  it("a bare host has no postgres commands until the plugin is installed", async () => {
    expect((await asRoot("plugin:uninstall postgres")).code).toBe(0);
    expect((await asRoot("plugin:installed postgres")).code).toBe(1);
    const missing = await asDokku("postgres:exists db1");
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("`postgres:exists db1` is not a dokku command.");
    expect((await asDokku("plugin:list")).stdout).not.toMatch(/postgres/);

    const install = await asRoot(
      "plugin:install https://github.com/dokku/dokku-postgres.git --committish 1.48.0 --name postgres",
    );
    expect(install.code, install.stderr).toBe(0);
    expect(install.stdout).toContain("-----> Plugin postgres enabled");
    expect((await asRoot("plugin:installed postgres")).code).toBe(0);
    expect((await asDokku("postgres:exists db1")).stderr).toContain("Postgres service db1 does not exist");

    const again = await asRoot("plugin:install https://github.com/dokku/dokku-postgres.git --name postgres");
    expect(again.code).toBe(1);
  });

  it("fails a clone of a repository it cannot reach, installing nothing", async () => {
    const result = await asRoot("plugin:install https://example.invalid/dokku-thing.git --name thing");
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("Unable to install plugin thing");
    expect((await asRoot("plugin:installed thing")).code).toBe(1);
  });
});
