/**
 * What a tenant looks like on a Dokku host, read only through Dokku's own
 * commands (so it works against any Dokku host), and what it should look like
 * for a spec.
 */
import { expect } from "vitest";
import { type TenantNames, tenantDomains, tenantNames } from "../components/tenantNames.ts";
import type { TenantSpec } from "../components/tenantSpec.ts";
import { tier } from "../components/tiers.ts";
import { runDokku } from "./dokkuClient.ts";
import type { DokkuTarget } from "./dokkuTarget.ts";

export interface ObservedApp {
  readonly initialNetwork: string;
  readonly limits: Record<string, string>;
  readonly vhosts: string;
  readonly scale: { process_type: string; quantity: number }[];
  readonly image: string;
  readonly mounts: { entry_name?: string; container_path: string; readonly?: boolean }[];
  readonly config: Record<string, string>;
  readonly letsencrypt: string;
  readonly deployOptions: string[];
}

export interface ObservedTenant {
  readonly apps: string[];
  readonly network: boolean;
  readonly storage: string[];
  readonly services: string[];
  readonly byApp: Record<string, ObservedApp>;
}

async function dokku(target: DokkuTarget, command: string): Promise<{ code: number; stdout: string }> {
  const result = await runDokku(target, command, { quiet: true });
  if (result.code === 255) throw new Error(`ssh failed for ${command}: ${result.stderr}`);
  return result;
}

async function json<T>(target: DokkuTarget, command: string): Promise<T> {
  const result = await dokku(target, command);
  expect(result.code, command).toBe(0);
  return JSON.parse(result.stdout) as T;
}

async function value(target: DokkuTarget, command: string): Promise<string> {
  return (await dokku(target, command)).stdout.trim();
}

/** The image `app` was last deployed from (`git:from-image`), empty when it never was. */
export function deployedImage(target: DokkuTarget, app: string): Promise<string> {
  return value(target, `apps:report ${app} --app-deploy-source-metadata`);
}

async function observeApp(target: DokkuTarget, app: string): Promise<ObservedApp> {
  const network = await json<Record<string, string>>(target, `network:report ${app} --format json`);
  return {
    initialNetwork: network["initial-network"] ?? "",
    limits: await json(target, `resource:report ${app} --format json`),
    vhosts: await value(target, `domains:report ${app} --domains-app-vhosts`),
    scale: await json(target, `ps:scale ${app} --format json`),
    image: await deployedImage(target, app),
    mounts: await json(target, `storage:list ${app} --format json`),
    config: await json(target, `config:export --format json ${app}`),
    letsencrypt: await value(target, `letsencrypt:active ${app}`),
    deployOptions:
      (await json<Record<string, string[]>>(target, `docker-options:report ${app} --format json`))[
        "deploy-list"
      ] ?? [],
  };
}

/** Everything of `names` that exists on the host. */
export async function observeTenant(target: DokkuTarget, names: TenantNames): Promise<ObservedTenant> {
  const allApps = await json<string[]>(target, "apps:list --format json");
  const apps = [
    names.runtimeApp,
    names.homeserverApp,
    names.backupApp,
    ...Object.values(names.bridgeApps),
  ].filter((a) => allApps.includes(a));
  const exists = async (cmd: string) => (await dokku(target, cmd)).code === 0;
  const storage = [];
  for (const entry of [
    names.runtimeStorage,
    names.homeserverStorage,
    ...Object.values(names.bridgeStorage),
  ]) {
    if (await exists(`storage:info ${entry} --format json`)) storage.push(entry);
  }
  const services = [];
  if (await exists(`postgres:exists ${names.postgres}`)) services.push(names.postgres);
  if (await exists(`redis:exists ${names.redis}`)) services.push(names.redis);
  const byApp: Record<string, ObservedApp> = {};
  for (const app of apps) byApp[app] = await observeApp(target, app);
  return { apps, network: await exists(`network:exists ${names.network}`), storage, services, byApp };
}

/** The subset of observations a spec fully determines. */
export function expectTenant(observed: ObservedTenant, spec: TenantSpec): void {
  const names = tenantNames(spec.slug);
  const domains = tenantDomains(spec.slug, spec.baseDomain);
  const plan = tier(spec.tier);
  const scale = spec.suspended ? 0 : 1;
  const bridges = spec.bridges ?? [];
  expect(observed.apps.sort()).toEqual(
    [names.runtimeApp, names.homeserverApp, ...bridges.map((b) => names.bridgeApps[b.kind])].sort(),
  );
  expect(observed.network).toBe(true);
  expect(observed.storage.sort()).toEqual(
    [
      names.runtimeStorage,
      names.homeserverStorage,
      ...bridges.map((b) => names.bridgeStorage[b.kind]),
    ].sort(),
  );
  for (const b of bridges) {
    const app = names.bridgeApps[b.kind];
    const o = observed.byApp[app];
    expect(o?.initialNetwork, `${app} network`).toBe(names.network);
    expect(o?.limits["_default_.limit.memory"], `${app} memory`).toBe(String(plan.bridge.memoryMb));
    expect(o?.scale, `${app} scale`).toEqual([{ process_type: "web", quantity: scale }]);
    expect(o?.image, `${app} image`).toBe(b.image);
    expect(
      o?.mounts.map((m) => m.entry_name),
      `${app} mounts`,
    ).toEqual([names.bridgeStorage[b.kind]]);
    expect(o?.vhosts, `${app} is not public`).toBe("");
  }
  expect(observed.services.sort()).toEqual(
    spec.homeserver === "synapse" ? [names.postgres, names.redis].sort() : [],
  );
  const apps = [
    {
      app: names.runtimeApp,
      resources: plan.runtime,
      vhosts: `${domains.app} ${domains.api}`,
      image: spec.images.runtime,
      entry: names.runtimeStorage,
    },
    {
      app: names.homeserverApp,
      resources: plan.homeserver,
      vhosts: domains.matrix,
      image: spec.images.homeserver,
      entry: names.homeserverStorage,
    },
  ];
  for (const a of apps) {
    const o = observed.byApp[a.app];
    expect(o, a.app).toBeDefined();
    if (!o) continue;
    expect(o.initialNetwork, `${a.app} network`).toBe(names.network);
    expect(o.limits["_default_.limit.memory"], `${a.app} memory`).toBe(String(a.resources.memoryMb));
    expect(o.limits["_default_.limit.cpu"], `${a.app} cpu`).toBe(String(a.resources.cpus));
    expect(o.limits["_default_.reserve.memory"], `${a.app} reservation`).toBe(
      String(a.resources.reserveMemoryMb),
    );
    expect(o.vhosts, `${a.app} domains`).toBe(a.vhosts);
    expect(o.scale, `${a.app} scale`).toEqual([{ process_type: "web", quantity: scale }]);
    expect(o.image, `${a.app} image`).toBe(a.image);
    expect(
      o.mounts.map((m) => m.entry_name),
      `${a.app} mounts`,
    ).toEqual([a.entry]);
    expect(o.letsencrypt, `${a.app} TLS`).toBe("true");
    expect(
      o.deployOptions.filter((opt) => opt.startsWith("--health-cmd")),
      `${a.app} readiness`,
    ).toHaveLength(1);
  }
  const runtime = observed.byApp[names.runtimeApp];
  expect(runtime?.config.MINDROOM_TIER).toBe(plan.id);
  expect(runtime?.config.MINDROOM_MAX_AGENTS).toBe(String(plan.agents));
  expect(runtime?.config.MATRIX_HOMESERVER).toBe(`http://${names.homeserverApp}.web:8008`);
  expect(runtime?.config.MINDROOM_INSTANCE_NAME).toBe(spec.displayName ?? spec.slug);
  if (spec.homeserver === "synapse") {
    expect(observed.byApp[names.homeserverApp]?.config.DATABASE_URL).toMatch(/^postgres:\/\//);
    expect(observed.byApp[names.homeserverApp]?.config.REDIS_URL).toMatch(/^redis:\/\//);
  }
}

/** Nothing of the tenant is left on the host. */
export function expectGone(observed: ObservedTenant): void {
  expect(observed).toEqual({ apps: [], network: false, storage: [], services: [], byApp: {} });
}
