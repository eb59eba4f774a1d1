/**
 * The network plugin (Go) over a simulated Docker network list. `bridge`, `host`
 * and `none` always exist. Docker refuses to remove a network with active
 * endpoints; here that means a deployed app or a service container attached to it.
 */
import type { PluginModule } from "./commands.ts";
import { confirmGo } from "./confirm.ts";
import type { Ctx } from "./context.ts";
import { fail } from "./errors.ts";
import { parseFlags } from "./flags.ts";
import { goMarshal } from "./goJson.ts";
import { verifyAppGo } from "./names.ts";
import { GLOBAL_SCOPE, propComputed, propGet } from "./properties.ts";
import { commandPropertySet } from "./propertyCommand.ts";
import { runGoReport } from "./report.ts";

const BUILTIN_NETWORKS: Record<string, { id: string; driver: string; scope: string }> = {
  bridge: { id: "4f1e3a9c2b7d", driver: "bridge", scope: "local" },
  host: { id: "9a8b7c6d5e4f", driver: "host", scope: "local" },
  none: { id: "1a2b3c4d5e6f", driver: "null", scope: "local" },
};

const NETWORK_LABEL = "com.dokku.network-name";
/** The network plugin parses `CreatedAt` from a constant upstream, so every network reports this instant. */
const REPORTED_CREATED_AT = "2024-02-25T01:55:24.275184461Z";

export function networkExists(ctx: Ctx, name: string): boolean {
  return Object.hasOwn(BUILTIN_NETWORKS, name) || Object.hasOwn(ctx.state.networks, name);
}

/** Go's `DockerNetwork` struct, in field order. */
function describeNetwork(ctx: Ctx, name: string) {
  const builtin = BUILTIN_NETWORKS[name];
  const managed = ctx.state.networks[name];
  return {
    CreatedAt: REPORTED_CREATED_AT,
    DokkuManaged: managed !== undefined,
    Driver: builtin?.driver ?? "bridge",
    ID: (builtin?.id ?? managed?.id ?? "").slice(0, 12),
    Internal: false,
    IPv6: false,
    Labels: managed ? { [NETWORK_LABEL]: name } : {},
    Name: name,
    Scope: builtin?.scope ?? "local",
  };
}

function allNetworkNames(ctx: Ctx): string[] {
  return [...Object.keys(BUILTIN_NETWORKS), ...Object.keys(ctx.state.networks)].sort();
}

const ATTACH_PROPERTIES = ["attach-post-create", "attach-post-deploy"];

/** Who has containers on the network: deployed apps attached to it and running services created on it. */
function activeEndpoints(ctx: Ctx, network: string): boolean {
  const has = (list: string): boolean => list.split(",").includes(network);
  for (const [app, state] of Object.entries(ctx.state.apps)) {
    if (!state.deployed) continue;
    if (propComputed(ctx.state, "network", app, "initial-network") === network) return true;
    if (ATTACH_PROPERTIES.some((key) => has(propComputed(ctx.state, "network", app, key)))) return true;
  }
  for (const [plugin, services] of Object.entries(ctx.state.services)) {
    for (const [service, state] of Object.entries(services)) {
      if (state.status !== "running") continue;
      for (const key of ["initial-network", "post-create-network", "post-start-network"]) {
        if (has(propGet(ctx.state, plugin, service, key))) return true;
      }
    }
  }
  return false;
}

function create(ctx: Ctx, args: string[]): void {
  const name = parseFlags({ name: "network:create", flags: {} }, args).arg(0);
  ctx.out.info1Quiet(`Creating network ${name}`);
  if (name === "") fail('Unable to create network: "docker network create" requires exactly 1 argument.');
  if (networkExists(ctx, name)) {
    fail(`Unable to create network: Error response from daemon: network with name ${name} already exists`);
  }
  ctx.state.networks[name] = { id: ctx.randomHex(32), createdAt: Math.floor(ctx.now() / 1000) };
}

function destroy(ctx: Ctx, args: string[]): void {
  const parsed = parseFlags(
    {
      name: "network:destroy",
      flags: { force: { kind: "bool", usage: "--force: force destroy without confirmation" } },
    },
    args,
  );
  const name = parsed.arg(0);
  if (!(parsed.bool("force") || ctx.flags.force)) confirmGo(ctx, name, "network");
  ctx.out.info1Quiet(`Destroying network ${name}`);
  const prefix = "Unable to destroy network: Error response from daemon:";
  if (Object.hasOwn(BUILTIN_NETWORKS, name))
    fail(`${prefix} ${name} is a pre-defined network and cannot be removed`);
  const network = ctx.state.networks[name];
  if (!network) fail(`${prefix} network ${name} not found`);
  if (activeEndpoints(ctx, name)) {
    fail(`${prefix} error while removing network: network ${name} id ${network.id} has active endpoints`);
  }
  delete ctx.state.networks[name];
}

function exists(ctx: Ctx, args: string[]): void {
  const name = parseFlags({ name: "network:exists", flags: {} }, args).arg(0);
  if (name === "") fail("No network name specified");
  if (!networkExists(ctx, name)) fail("Network does not exist");
  ctx.out.info1Quiet("Network exists");
}

function info(ctx: Ctx, args: string[]): void {
  const parsed = parseFlags(
    {
      name: "network:info",
      flags: { format: { kind: "string", usage: "format: [ text | json ]", default: "text" } },
    },
    args,
  );
  const name = parsed.arg(0);
  const format = parsed.string("format");
  if (name === "") fail("No network name specified");
  if (format !== "json" && format !== "text") fail("Invalid format specified, use either text or json");
  if (!networkExists(ctx, name)) fail("Network does not exist");
  const network = describeNetwork(ctx, name);
  if (format === "json") {
    ctx.out.line(goMarshal(network));
    return;
  }
  ctx.out.info2Quiet(`${name} network information`);
  ctx.out.verbose(`${"ID:".padEnd(16)}${network.ID}`);
  ctx.out.verbose(`${"Name:".padEnd(16)}${network.Name}`);
  ctx.out.verbose(`${"Driver:".padEnd(16)}${network.Driver}`);
  ctx.out.verbose(`${"Scope:".padEnd(16)}${network.Scope}`);
  ctx.out.verbose(`${"Dokku managed:".padEnd(16)}${String(network.DokkuManaged)}`);
}

function list(ctx: Ctx, args: string[]): void {
  const parsed = parseFlags(
    {
      name: "network:list",
      flags: {
        format: { kind: "string", usage: "format: [ text | json ]", default: "text" },
        "dokku-managed": { kind: "bool", usage: "show only dokku-managed networks" },
      },
    },
    args,
  );
  const names = allNetworkNames(ctx).filter(
    (name) => !parsed.bool("dokku-managed") || Object.hasOwn(ctx.state.networks, name),
  );
  if (parsed.string("format") === "json") {
    ctx.out.line(goMarshal(names.map((name) => describeNetwork(ctx, name))));
    return;
  }
  ctx.out.info2Quiet("Networks");
  for (const name of names) ctx.out.line(name);
}

function set(ctx: Ctx, args: string[]): void {
  const parsed = parseFlags(
    { name: "network:set", flags: { global: { kind: "bool", usage: "--global: set a global property" } } },
    args,
  );
  const global = parsed.bool("global");
  const scope = global ? GLOBAL_SCOPE : parsed.arg(0);
  const property = global ? parsed.arg(0) : parsed.arg(1);
  let value = global ? parsed.arg(1) : parsed.arg(2);
  const values = parsed.args.slice(global ? 1 : 2);
  if (scope !== GLOBAL_SCOPE) verifyAppGo(ctx, scope);
  if (ATTACH_PROPERTIES.includes(property)) {
    const other = property === "attach-post-create" ? "attach-post-deploy" : "attach-post-create";
    for (const network of values) {
      if (network === "host" || network === "bridge")
        fail(`Invalid network name specified for attach: ${network}`);
      if (network !== "" && network === propComputed(ctx.state, "network", scope, other)) {
        fail(`Network name already associated with this app: ${network}`);
      }
    }
    value = values.join(",");
  }
  commandPropertySet(ctx, "network", scope, property, value, {
    app: [
      "attach-post-create",
      "attach-post-deploy",
      "bind-all-interfaces",
      "initial-network",
      "static-web-listener",
      "tld",
    ],
    global: ["attach-post-create", "attach-post-deploy", "bind-all-interfaces", "initial-network", "tld"],
  });
}

function rebuild(ctx: Ctx, args: string[]): void {
  verifyAppGo(ctx, parseFlags({ name: "network:rebuild", flags: {} }, args).arg(0));
}

function report(ctx: Ctx, args: string[]): void {
  runGoReport(ctx, args, {
    plugin: "network",
    reportType: "network",
    emitLegacy: true,
    uppercase: true,
    collect(c, app): Record<string, string> {
      const s = c.state;
      const globalValue = (key: string): string => propGet(s, "network", GLOBAL_SCOPE, key);
      const values: Record<string, string> = {
        "--network-computed-attach-post-create": propComputed(s, "network", app, "attach-post-create"),
        "--network-computed-attach-post-deploy": propComputed(s, "network", app, "attach-post-deploy"),
        "--network-computed-bind-all-interfaces": propComputed(
          s,
          "network",
          app,
          "bind-all-interfaces",
          "false",
        ),
        "--network-computed-initial-network": propComputed(s, "network", app, "initial-network"),
        "--network-computed-tld": propComputed(s, "network", app, "tld"),
        "--network-global-attach-post-create": globalValue("attach-post-create"),
        "--network-global-attach-post-deploy": globalValue("attach-post-deploy"),
        "--network-global-bind-all-interfaces": globalValue("bind-all-interfaces"),
        "--network-global-initial-network": globalValue("initial-network"),
        "--network-global-tld": globalValue("tld"),
      };
      if (app === GLOBAL_SCOPE) return values;
      const appValue = (key: string): string => propGet(s, "network", app, key);
      return {
        ...values,
        "--network-attach-post-create": appValue("attach-post-create"),
        "--network-attach-post-deploy": appValue("attach-post-deploy"),
        "--network-bind-all-interfaces": appValue("bind-all-interfaces"),
        "--network-initial-network": appValue("initial-network"),
        "--network-static-web-listener": appValue("static-web-listener"),
        "--network-tld": appValue("tld"),
        "--network-web-listeners": "",
      };
    },
  });
}

export const plugin: PluginModule = {
  core: true,
  commands: {
    "network:create": create,
    "network:destroy": destroy,
    "network:exists": exists,
    "network:info": info,
    "network:list": list,
    "network:set": set,
    "network:rebuild": rebuild,
    "network:report": report,
  },
};
