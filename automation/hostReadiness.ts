/**
 * Whether a Dokku host has what tenants need, decided from what Dokku itself
 * reports (`version`, `plugin:list`, `letsencrypt:cron-job`,
 * `domains:report --global`), so the same check holds on any Dokku host.
 */
import { MIN_DOKKU_VERSION, REQUIRED_PLUGINS } from "../components/hostRequirements.ts";
import type { HostReadiness } from "../database/hosts.ts";

export interface DokkuReports {
  /** `dokku version`: `dokku version 0.38.27`. */
  readonly version: string;
  /** `dokku plugin:list`. */
  readonly pluginList: string;
  /** `dokku letsencrypt:cron-job` (status form); empty when the plugin is missing. */
  readonly cronJob: string;
  /** `dokku domains:report --global --format json`. */
  readonly globalDomains: string;
}

/** `0.38.27` → [0, 38, 27]; anything unparseable sorts lowest. */
function versionParts(version: string): number[] {
  return version.split(".").map((p) => Number.parseInt(p, 10) || 0);
}

export function atLeast(version: string, minimum: string): boolean {
  const a = versionParts(version);
  const b = versionParts(minimum);
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d > 0;
  }
  return true;
}

/** Installed plugins by name → version, from `plugin:list` lines (`  name  version  enabled  description`). */
export function parsePluginList(text: string): Record<string, string> {
  const plugins: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const match = /^\s+(\S+)\s+(\S+)\s+enabled\b/.exec(line);
    if (match?.[1] && match[2]) plugins[match[1]] = match[2];
  }
  return plugins;
}

function parseGlobalDomains(json: string): string[] {
  try {
    const report = JSON.parse(json) as Record<string, unknown>;
    const vhosts = typeof report["global-vhosts"] === "string" ? report["global-vhosts"] : "";
    return vhosts.split(/\s+/).filter(Boolean);
  } catch {
    return [];
  }
}

export function hostReadiness(reports: DokkuReports): HostReadiness {
  const problems: string[] = [];
  const version = /dokku version (\S+)/.exec(reports.version)?.[1] ?? null;
  if (!version)
    problems.push(
      "dokku does not answer `dokku version`: install Dokku (https://dokku.com/docs/getting-started/installation/)",
    );
  else if (!atLeast(version, MIN_DOKKU_VERSION))
    problems.push(`Dokku ${version} is older than ${MIN_DOKKU_VERSION}: upgrade it`);
  const installed = parsePluginList(reports.pluginList);
  const plugins: Record<string, string> = {};
  for (const required of REQUIRED_PLUGINS) {
    const have = installed[required.name];
    if (have === undefined) {
      problems.push(`the ${required.name} plugin is not installed: run mindroom-ops hosts up`);
      continue;
    }
    plugins[required.name] = have;
    if (!atLeast(have, required.version))
      problems.push(
        `the ${required.name} plugin is ${have}, older than ${required.version}: run mindroom-ops hosts up`,
      );
  }
  const autorenew = /--remove' to disable/.test(reports.cronJob);
  if (installed.letsencrypt !== undefined && !autorenew)
    problems.push("Let's Encrypt certificates would not renew (no cron job): run mindroom-ops hosts up");
  const globalDomains = parseGlobalDomains(reports.globalDomains);
  if (globalDomains.length === 0)
    problems.push("no global domain is set (domains:set-global): run mindroom-ops hosts up");
  return { ready: problems.length === 0, problems, dokkuVersion: version, plugins, autorenew, globalDomains };
}
