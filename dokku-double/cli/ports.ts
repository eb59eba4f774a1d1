/**
 * The ports plugin (Go): explicit `scheme:host:container` mappings, and the
 * "detected" mappings an app gets when none are set (`http:80:5000`, plus
 * `https:443` once a certificate exists). letsencrypt and certs use the helpers.
 */
import type { PluginModule } from "./commands.ts";
import type { Ctx } from "./context.ts";
import { buildProxyConfig } from "./deploy.ts";
import { columnize } from "./envfile.ts";
import { fail } from "./errors.ts";
import { parseFlags } from "./flags.ts";
import { goMarshal } from "./goJson.ts";
import { verifyAppGo } from "./names.ts";
import { GLOBAL_SCOPE, propComputed } from "./properties.ts";
import { runGoReport } from "./report.ts";
import type { AppState, PortMap } from "./state.ts";

const INTERNAL = "__internal__";

export function portMapString(map: PortMap): string {
  return `${map.scheme}:${map.hostPort}:${map.containerPort}`;
}

function atoi(value: string, whole: string): number {
  if (!/^[+-]?\d+$/.test(value))
    fail(`Invalid port map ${whole} [err=strconv.Atoi: parsing "${value}": invalid syntax]`);
  return Number.parseInt(value, 10);
}

const inRange = (value: number): boolean => value > 0 && value < 65536;

/** `parsePortMapString`: space-separated `scheme:host:container`, or a bare host port (used by `remove`). */
export function parsePortMaps(text: string): PortMap[] {
  const maps: PortMap[] = [];
  for (const word of text.trim().split(" ")) {
    const parts = word.split(":");
    if (parts.length === 1) {
      const hostPort = atoi(word, word);
      if (!inRange(hostPort)) fail(`Invalid port map ${word} [hostPort=${hostPort}]`);
      maps.push({ scheme: INTERNAL, hostPort, containerPort: 0 });
      continue;
    }
    const [scheme = "", host = "", ...rest] = parts;
    if (parts.length < 3) fail(`Invalid port map ${word} [len=${parts.length}]`);
    const hostPort = atoi(host, word);
    const containerPort = atoi(rest.join(":"), word);
    if (!inRange(hostPort)) fail(`Invalid port map ${word} [hostPort=${hostPort}]`);
    if (!inRange(containerPort)) fail(`Invalid port map ${word} [containerPort=${containerPort}]`);
    maps.push({ scheme, hostPort, containerPort });
  }
  return maps;
}

function reuseProblem(maps: readonly PortMap[]): string | undefined {
  const seen = new Set<string>();
  for (const map of maps) {
    const key = `${map.scheme}:${map.hostPort}`;
    if (seen.has(key)) return `The same scheme:host-port is being reused: ${key}`;
    seen.add(key);
  }
  return undefined;
}

function unique(maps: readonly PortMap[]): PortMap[] {
  const seen = new Set<string>();
  return maps.filter((map) => {
    const key = portMapString(map);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** `setPortMaps`: validated, internal entries dropped, stored sorted by their string form. */
export function setPortMaps(app: AppState, maps: readonly PortMap[]): void {
  const problem = reuseProblem(maps);
  if (problem) fail(`Error validating port mappings: ${problem}`);
  app.ports = maps
    .filter((map) => map.scheme !== INTERNAL)
    .sort((a, b) => (portMapString(a) < portMapString(b) ? -1 : portMapString(a) > portMapString(b) ? 1 : 0));
}

export function explicitPortMaps(app: AppState): PortMap[] {
  return app.ports ?? [];
}

export function detectedPortMaps(ctx: Ctx, name: string): PortMap[] {
  const app = ctx.state.apps[name];
  const basePort = Number(propComputed(ctx.state, "proxy", name, "proxy-port")) || 80;
  const maps: PortMap[] = [{ scheme: "http", hostPort: basePort, containerPort: 5000 }];
  if (!app?.tls) return maps;
  const sslPort = Number(propComputed(ctx.state, "proxy", name, "proxy-ssl-port")) || 443;
  const http80 = maps.filter((map) => map.scheme === "http" && map.hostPort === 80);
  if (http80.length > 0)
    return [
      ...maps,
      ...http80.map((map) => ({ scheme: "https", hostPort: sslPort, containerPort: map.containerPort })),
    ];
  return maps.map((map) => (map.scheme === "http" ? { ...map, scheme: "https" } : map));
}

/** The `ports-get` trigger: explicit mappings, else the detected ones. */
export function effectivePortMaps(ctx: Ctx, name: string): PortMap[] {
  const app = ctx.state.apps[name];
  const explicit = app ? explicitPortMaps(app) : [];
  return unique(
    (explicit.length > 0 ? explicit : detectedPortMaps(ctx, name)).filter((map) => map.scheme !== INTERNAL),
  );
}

/** `post-certs-update`: an https:443 mapping next to every explicit http:80 one, unless one exists. */
export function addHttpsForCertificate(app: AppState): void {
  const maps = explicitPortMaps(app);
  if (maps.some((map) => map.scheme === "https" && map.hostPort === 443)) return;
  const http80 = unique(maps.filter((map) => map.scheme === "http" && map.hostPort === 80));
  if (http80.length === 0) return;
  setPortMaps(app, [
    ...maps,
    ...http80.map((map) => ({ scheme: "https", hostPort: 443, containerPort: map.containerPort })),
  ]);
}

function mappingsArg(
  ctx: Ctx,
  args: string[],
  name: string,
): { app: AppState; appName: string; maps: PortMap[] } {
  const parsed = parseFlags({ name, flags: {} }, args);
  const appName = parsed.arg(0);
  const app = verifyAppGo(ctx, appName);
  const words = parsed.args.slice(1);
  if (words.length === 0) fail("No port mapping specified");
  return { app, appName, maps: parsePortMaps(words.join(" ")) };
}

function set(ctx: Ctx, args: string[]): void {
  const { app, appName, maps } = mappingsArg(ctx, args, "ports:set");
  const problem = reuseProblem(maps);
  if (problem) fail(`Error validating port mappings: ${problem}`);
  setPortMaps(app, maps);
  buildProxyConfig(ctx, appName);
}

function add(ctx: Ctx, args: string[]): void {
  const { app, appName, maps } = mappingsArg(ctx, args, "ports:add");
  const newProblem = reuseProblem(maps);
  if (newProblem) fail(`Error validating new port mappings: ${newProblem}`);
  const all = [...explicitPortMaps(app), ...maps];
  const allProblem = reuseProblem(all);
  if (allProblem) fail(`Error validating all port mappings: ${allProblem}`);
  setPortMaps(app, all);
  buildProxyConfig(ctx, appName);
}

function remove(ctx: Ctx, args: string[]): void {
  const { app, appName, maps } = mappingsArg(ctx, args, "ports:remove");
  const byString = new Set(maps.filter((map) => map.scheme !== INTERNAL).map(portMapString));
  const byPort = new Set(maps.filter((map) => map.scheme === INTERNAL).map((map) => map.hostPort));
  const keep = explicitPortMaps(app).filter(
    (map) => !byString.has(portMapString(map)) && !byPort.has(map.hostPort),
  );
  if (keep.length === 0) app.ports = null;
  else setPortMaps(app, keep);
  buildProxyConfig(ctx, appName);
}

function clear(ctx: Ctx, args: string[]): void {
  const appName = parseFlags({ name: "ports:clear", flags: {} }, args).arg(0);
  const app = verifyAppGo(ctx, appName);
  app.ports = null;
  buildProxyConfig(ctx, appName);
}

function list(ctx: Ctx, args: string[]): void {
  const appName = parseFlags({ name: "ports:list", flags: {} }, args).arg(0);
  const app = verifyAppGo(ctx, appName);
  const maps = explicitPortMaps(app);
  if (maps.length === 0) fail("No port mappings configured for app");
  const lines = ctx.out.quiet ? [] : ["-----> scheme:host port:container port"];
  lines.push(...maps.map(portMapString));
  lines.sort();
  ctx.out.info1Quiet(`Port mappings for ${appName}`);
  ctx.out.line(columnize(lines, ":", "    "));
}

/** Go's `PortMap` JSON, fields in struct order. */
function portMapsJson(maps: readonly PortMap[]): string {
  return goMarshal(
    maps.map((map) => ({ container_port: map.containerPort, host_port: map.hostPort, scheme: map.scheme })),
  );
}

function report(ctx: Ctx, args: string[]): void {
  runGoReport(ctx, args, {
    plugin: "ports",
    reportType: "ports",
    emitLegacy: true,
    uppercase: true,
    collect(c, appName): Record<string, string> {
      const app = c.state.apps[appName];
      if (appName === GLOBAL_SCOPE || !app) return {};
      const explicit = explicitPortMaps(app);
      const detected = detectedPortMaps(c, appName);
      return {
        "--ports-map": explicit.map(portMapString).join(" "),
        "--ports-map-json": portMapsJson(explicit),
        "--ports-map-detected": detected.map(portMapString).join(" "),
        "--ports-map-detected-json": portMapsJson(detected),
      };
    },
  });
}

export const plugin: PluginModule = {
  core: true,
  commands: {
    "ports:set": set,
    "ports:add": add,
    "ports:remove": remove,
    "ports:clear": clear,
    "ports:list": list,
    "ports:report": report,
  },
};
