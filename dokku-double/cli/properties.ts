/**
 * Dokku's plugin property store (`common.PropertyGet/Write/Delete`,
 * `fn-plugin-property-*`): `plugin → scope → key → value`, where scope is an app,
 * a service, or `--global`. An empty string means "unset", as in Dokku.
 */
import type { HostState } from "./state.ts";

export const GLOBAL_SCOPE = "--global";

export function propGet(state: HostState, plugin: string, scope: string, key: string): string {
  return state.properties[plugin]?.[scope]?.[key] ?? "";
}

export function propSet(state: HostState, plugin: string, scope: string, key: string, value: string): void {
  state.properties[plugin] ??= {};
  const byScope = state.properties[plugin];
  byScope[scope] ??= {};
  byScope[scope][key] = value;
}

export function propDelete(state: HostState, plugin: string, scope: string, key: string): void {
  const byKey = state.properties[plugin]?.[scope];
  if (byKey) delete byKey[key];
}

/** All properties of one scope, or `undefined` when the scope was never written (Dokku: no directory). */
export function propAll(state: HostState, plugin: string, scope: string): Record<string, string> | undefined {
  return state.properties[plugin]?.[scope];
}

/** Ensures the scope exists (Dokku creates the property directory), without writing a key. */
export function propTouchScope(state: HostState, plugin: string, scope: string): void {
  state.properties[plugin] ??= {};
  state.properties[plugin][scope] ??= {};
}

/** Removes one scope from every plugin (what `apps:destroy` does through its triggers). */
export function propDestroyScopeEverywhere(state: HostState, scope: string): void {
  for (const byScope of Object.values(state.properties)) delete byScope[scope];
}

export function propDestroyScope(state: HostState, plugin: string, scope: string): void {
  const byScope = state.properties[plugin];
  if (byScope) delete byScope[scope];
}

/** `app value || global value || fallback`, the shape of every Dokku `computed-*` report value. */
export function propComputed(
  state: HostState,
  plugin: string,
  app: string,
  key: string,
  fallback = "",
): string {
  const appValue = app === GLOBAL_SCOPE ? "" : propGet(state, plugin, app, key);
  if (appValue !== "") return appValue;
  const globalValue = propGet(state, plugin, GLOBAL_SCOPE, key);
  return globalValue !== "" ? globalValue : fallback;
}
