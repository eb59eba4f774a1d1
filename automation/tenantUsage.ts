/**
 * A tenant's usage as its Dokku host shows it, over SSH:
 * - storage: the bytes in its storage entries, located as Dokku reports them
 *   (`storage:info <entry> --format json`, its `host_path`), then `du -sb` in
 *   the host's shell;
 * - agents: the agents in the runtime's own configuration (`config.yaml` in its
 *   storage, `MINDROOM_CONFIG_PATH`), which is what the runtime runs.
 *
 * Messages are not measurable from the host: the runtime keeps them in its
 * session databases and serves them only through its usage API
 * (`GET /api/usage/export?include_daily=true`, `daily_breakdown[].run_count`),
 * which needs a trusted-upstream service JWT that tenants are not configured
 * for yet. They are reported as null, "not measured", like any figure the host
 * could not give (an entry that does not exist, a config the runtime has not
 * written): never a made-up 0.
 */
import { randomBytes } from "node:crypto";
import { parse as parseYaml } from "yaml";
import { quote } from "../components/dokku/commandLine.ts";
import type { Slug } from "../components/tenantNames.ts";
import { tenantNames } from "../components/tenantNames.ts";
import { sshTarget } from "../components/tenantSpec.ts";
import { type HostAccess, HostShellError, runDokkuReads, runHostScript } from "./hostShell.ts";

export interface TenantUsage {
  /** Bytes in the tenant's storage entries, or null when none could be measured. */
  readonly storageBytes: number | null;
  /** Agents in the runtime's config.yaml, or null when there is none to read. */
  readonly agents: number | null;
  /** Not measurable from the host (see the module comment). */
  readonly messages: null;
}

/** `host_path` of a storage entry from `storage:info --format json`, when it has one. */
function hostPathOf(json: string): string | null {
  try {
    const path = (JSON.parse(json) as { host_path?: unknown }).host_path;
    return typeof path === "string" && path.startsWith("/") ? path : null;
  } catch {
    return null;
  }
}

/** The number of agents in a MindRoom config.yaml (`agents:` is a mapping of name → config). */
export function countAgents(configYaml: string): number | null {
  try {
    const config = parseYaml(configYaml) as { agents?: unknown } | null;
    if (!config || typeof config !== "object") return null;
    const agents = config.agents ?? {};
    return agents && typeof agents === "object" && !Array.isArray(agents) ? Object.keys(agents).length : null;
  } catch {
    return null;
  }
}

/** Sums `du -sb` lines (`<bytes>\t<path>`); null when there are none. */
export function sumDu(output: string): number | null {
  const sizes = output
    .split("\n")
    .map((line) => /^(\d+)\t/.exec(line)?.[1])
    .filter((n): n is string => n !== undefined)
    .map(Number);
  return sizes.length ? sizes.reduce((a, b) => a + b, 0) : null;
}

export async function measureTenantUsage(access: HostAccess, slug: Slug): Promise<TenantUsage> {
  const names = tenantNames(slug);
  const entries = [names.runtimeStorage, names.homeserverStorage];
  const infos = await runDokkuReads(
    access,
    entries.map((entry) => `storage:info ${entry} --format json`),
  );
  const paths = infos.map((r) => (r.code === 0 ? hostPathOf(r.stdout) : null));
  const present = paths.filter((p): p is string => p !== null);
  if (present.length === 0) return { storageBytes: null, agents: null, messages: null };

  // Storage belongs to the apps' users: a non-root login reads it through sudo, as it runs dokku.
  const asRoot = sshTarget(access.url).user === "root" ? "" : "sudo -n ";
  const marker = `@@mindroom-${randomBytes(8).toString("hex")}`;
  const runtimeConfig = paths[0] ? `${paths[0]}/config.yaml` : null;
  const script = [
    `${asRoot}du -sb -- ${present.map(quote).join(" ")} 2>/dev/null`,
    `printf '%s\\n' '${marker}'`,
    runtimeConfig
      ? `${asRoot}cat -- ${quote(runtimeConfig)} 2>/dev/null || printf '%s' '${marker}-none'`
      : `printf '%s' '${marker}-none'`,
  ].join("\n");
  const result = await runHostScript(access, `${script}\n`);
  if (result.code === 255) throw new HostShellError(`ssh to ${access.url} failed: ${result.stderr.trim()}`);
  const at = result.stdout.indexOf(`${marker}\n`);
  if (at < 0)
    throw new HostShellError(`the usage script on ${access.url} did not finish: ${result.stderr.trim()}`);
  const config = result.stdout.slice(at + marker.length + 1);
  return {
    storageBytes: sumDu(result.stdout.slice(0, at)),
    agents: config.startsWith(`${marker}-none`) ? null : countAgents(config),
    messages: null,
  };
}
