/**
 * A tenant's data on a Dokku host as the backup, restore and move drills
 * compare it: every file under its storage entries (path, type, mode, content
 * hash; symlinks by target) and its services' dumps, read through Dokku's own
 * commands and the tenant's shell login; and data of every kind written there.
 */
import { randomBytes } from "node:crypto";
import { expect } from "vitest";
import { runHostScript } from "../automation/hostShell.ts";
import { storagePaths } from "../backups/hostData.ts";
import type { TenantData } from "../backups/tenantData.ts";
import { tenantNames } from "../components/tenantNames.ts";
import { type DokkuConnection, runDokku, runDokkuBytes } from "./dokkuClient.ts";

/** Runs a shell script as the tenant's login on its host; fails the test when it fails. */
export async function hostShell(tenant: TenantData, script: string): Promise<string> {
  const result = await runHostScript(tenant.access, `set -e\n${script}\n`);
  expect(result.code, result.stderr).toBe(0);
  return result.stdout;
}

/** Every file under both entries: path, type, mode, and content hash (symlinks: their target). */
export async function manifest(tenant: TenantData): Promise<string> {
  const paths = await storagePaths(tenant.access, tenant.storage);
  return hostShell(
    tenant,
    Object.entries(paths)
      .map(
        ([role, p]) =>
          `cd '${p}' && find . -printf '${role} %p %y %m %l\\n' | sort && find . -type f -print0 | sort -z | xargs -0 -r sha256sum`,
      )
      .join("\n"),
  );
}

/** Files of every kind a MindRoom and a homeserver keep: nested folders, binary data, modes, a symlink, a dotfile. */
export async function writeFiles(tenant: TenantData, seed: string): Promise<void> {
  const paths = await storagePaths(tenant.access, tenant.storage);
  const blob = randomBytes(256 * 1024).toString("base64");
  await hostShell(
    tenant,
    `
cd '${paths.runtime}'
mkdir -p agents/${seed}/memory
printf '%s' '${blob}' | base64 -d > agents/${seed}/memory/vectors.bin
printf 'config: ${seed}\\n' > config.yaml
chmod 640 config.yaml
printf 'hidden ${seed}' > .env.local
ln -sf config.yaml current-config
cd '${paths.homeserver}'
mkdir -p db/${seed}
head -c 100000 /dev/urandom > db/${seed}/000001.sst
printf 'ok ${seed}' > CURRENT`,
  );
}

/** The service's dump as Dokku exports it, base64. */
export async function dump(
  host: DokkuConnection,
  kind: "postgres" | "redis",
  service: string,
): Promise<string> {
  const result = await runDokkuBytes(host, `${kind}:export ${service}`);
  expect(result.code, result.stderr).toBe(0);
  return result.stdout.toString("base64");
}

/** Replaces the service's data with `data`, through Dokku's import. */
export async function load(
  tenant: TenantData,
  kind: "postgres" | "redis",
  service: string,
  data: Buffer,
): Promise<void> {
  const result = await runHostScript(
    tenant.access,
    `printf '%s' '${data.toString("base64")}' | base64 -d | dokku ${kind}:import ${service}\n`,
  );
  expect(result.code, result.stderr).toBe(0);
}

/** A Synapse tenant's files and both services' dumps. */
export async function tenantState(tenant: TenantData, host: DokkuConnection) {
  const names = tenantNames(tenant.slug as never);
  return {
    files: await manifest(tenant),
    postgres: await dump(host, "postgres", names.postgres),
    redis: await dump(host, "redis", names.redis),
  };
}

/** `ps:report <app> --running`: "true" or "false". */
export async function appRunning(host: DokkuConnection, app: string): Promise<string> {
  return (await runDokkuBytes(host, `ps:report ${app} --running`)).stdout.toString("utf8").trim();
}

/** Whether the host has the tenant's apps and services, by Dokku's `:exists` commands. */
export async function tenantPresence(host: DokkuConnection, slug: string): Promise<Record<string, boolean>> {
  const names = tenantNames(slug as never);
  const checks = [
    ["runtime", `apps:exists ${names.runtimeApp}`],
    ["homeserver", `apps:exists ${names.homeserverApp}`],
    ["postgres", `postgres:exists ${names.postgres}`],
    ["redis", `redis:exists ${names.redis}`],
  ] as const;
  const found: Record<string, boolean> = {};
  for (const [what, command] of checks) found[what] = (await runDokku(host, command)).code === 0;
  return found;
}

/** What tenantPresence finds on a host without the tenant. */
export const ABSENT = { runtime: false, homeserver: false, postgres: false, redis: false } as const;
