/**
 * Measuring a tenant's usage on the Dokku test host, which it reaches as any Dokku host (storage
 * entries located through `storage:info`, files counted with `du` in the host's shell): the figure
 * follows the files written into the entries, agents follow the runtime's config.yaml, and what the
 * host cannot give is null, never 0.
 */
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { afterAll, describe, expect, test } from "vitest";
import { parseSlug, tenantNames } from "../components/tenantNames.ts";
import { runDokku } from "../testing/dokkuClient.ts";
import { dokkuTarget, parseDokkuUrl } from "../testing/dokkuTarget.ts";
import { hostKeyOf } from "../testing/engineStack.ts";
import { countAgents, measureTenantUsage, sumDu } from "./tenantUsage.ts";

const target = dokkuTarget();
const access = {
  url: target.shellUrl,
  hostKey: hostKeyOf(target),
  privateKey: readFileSync(target.keyPath, "utf8"),
};
const slug = parseSlug(`use-${randomBytes(3).toString("hex")}`);
const names = tenantNames(slug);

/** A command in the host's shell (`ssh root@host …`), as an operator or a restore would run it. */
function shell(command: string, stdin?: string) {
  const { user } = parseDokkuUrl(target.shellUrl);
  return runDokku({ ...target, user }, command, stdin === undefined ? {} : { stdin });
}

async function hostPath(entry: string): Promise<string> {
  const info = await runDokku(target, `storage:info ${entry} --format json`);
  return (JSON.parse(info.stdout) as { host_path: string }).host_path;
}

afterAll(async () => {
  for (const entry of [names.runtimeStorage, names.homeserverStorage])
    await runDokku(target, `--force storage:destroy ${entry} --destroy-host-dir`);
});

describe("on the Dokku test host", () => {
  test("no storage entries yet: nothing measured (null), not zero", async () => {
    expect(await measureTenantUsage(access, slug)).toEqual({
      storageBytes: null,
      agents: null,
      messages: null,
    });
  });

  test("storage follows the files written into the entries; agents follow the runtime's config", async () => {
    for (const entry of [names.runtimeStorage, names.homeserverStorage])
      expect((await runDokku(target, `storage:create ${entry}`)).code).toBe(0);
    const empty = await measureTenantUsage(access, slug);
    expect(empty.storageBytes).toBeGreaterThan(0); // the directories themselves
    expect(empty.agents).toBeNull(); // the runtime has not written its config

    const runtime = await hostPath(names.runtimeStorage);
    const homeserver = await hostPath(names.homeserverStorage);
    expect((await shell(`head -c 3145728 /dev/zero > ${runtime}/attachments.bin`)).code).toBe(0);
    expect((await shell(`head -c 1048576 /dev/zero > ${homeserver}/media.bin`)).code).toBe(0);
    const config =
      "agents:\n  assistant:\n    display_name: Assistant\n  researcher:\n    display_name: Researcher\nmodels: {}\n";
    expect((await shell(`cat > ${runtime}/config.yaml`, config)).code).toBe(0);

    const measured = await measureTenantUsage(access, slug);
    expect((measured.storageBytes ?? 0) - (empty.storageBytes ?? 0)).toBe(4 * 1024 * 1024 + config.length);
    expect(measured.agents).toBe(2);
    expect(measured.messages).toBeNull();

    expect((await shell(`rm ${runtime}/attachments.bin`)).code).toBe(0);
    expect((await measureTenantUsage(access, slug)).storageBytes).toBe(
      (measured.storageBytes ?? 0) - 3 * 1024 * 1024,
    );
  });
});

describe("parsing what the host prints", () => {
  test("du lines are summed; nothing printed is null", () => {
    expect(sumDu("4096\t/a\n1052672\t/b\n")).toBe(1056768);
    expect(sumDu("")).toBeNull();
  });

  test("agents are the keys of the config's agents mapping", () => {
    expect(countAgents("agents:\n  a: {}\n  b: {}\n  c: {}\n")).toBe(3);
    expect(countAgents("models: {}\n")).toBe(0);
    expect(countAgents("agents: [a, b]\n")).toBeNull();
    expect(countAgents(": not yaml: [")).toBeNull();
    expect(countAgents("")).toBeNull();
  });
});
