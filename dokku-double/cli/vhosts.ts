/**
 * Domain logic shared by `apps:create`, the domains plugin, letsencrypt and
 * nginx (plugins/domains/functions): the per-app `VHOST` file, the global
 * `VHOST` file, and the `NO_VHOST` config flag.
 */
import type { HostState } from "./state.ts";

const HOSTNAME = /^[a-z0-9.*-]*[a-z0-9*-]$/;
const IPV4 = /^(?:\d{1,3}\.){3}\d{1,3}$/;
const IPV6 = /^[0-9a-fA-F:]*:[0-9a-fA-F:.]*$/;

/** `is_valid_hostname`: lowercased, `_` or the hostname regex. */
export function isValidHostname(name: string): boolean {
  const lower = name.toLowerCase();
  return lower === "_" || HOSTNAME.test(lower);
}

export function globalVhosts(state: HostState): string[] {
  return state.globalVhosts ?? [];
}

export function isGlobalVhostEnabled(state: HostState): boolean {
  return globalVhosts(state).some(isValidHostname);
}

/** `get_default_vhosts`: `<app>.<global>` per global domain (IP entries skipped); a dotted app name is its own host. */
export function defaultVhosts(state: HostState, app: string): string[] {
  if (!isGlobalVhostEnabled(state)) return [];
  return globalVhosts(state)
    .filter((vhost) => vhost !== "" && !IPV4.test(vhost) && !IPV6.test(vhost))
    .map((vhost) => (app.includes(".") ? app : `${app}.${vhost}`));
}

export function isAppVhostEnabled(state: HostState, app: string): boolean {
  return state.apps[app]?.env.NO_VHOST !== "1";
}

/** `get_app_domains`: the VHOST lines, but only while vhosts are enabled. */
export function appDomains(state: HostState, app: string): string[] {
  if (!isAppVhostEnabled(state, app)) return [];
  return (state.apps[app]?.vhosts ?? []).filter((line) => line !== "");
}
