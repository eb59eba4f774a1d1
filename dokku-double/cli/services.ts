/**
 * dokku-postgres and dokku-redis, one implementation: upstream's
 * `common-functions` are byte-identical between the two, only the constants
 * differ ({@link ServiceKind}). Service containers are simulated as running, so
 * `:info --status` says `running` and `:backup` succeeds once credentials exist.
 *
 * Linking writes `DATABASE_URL` (`REDIS_URL`), or `DOKKU_<KIND>_<COLOR>_URL` when
 * that name is taken, into the app's config and adds a `--link` docker option;
 * `apps:destroy` removes the app from the LINKS file but keeps the service.
 */
import { mkdirSync, rmSync } from "node:fs";
import type { PluginModule } from "./commands.ts";
import { setConfigVars, unsetConfigVars } from "./configVars.ts";
import { confirmBashService } from "./confirm.ts";
import type { Ctx } from "./context.ts";
import { addOption, DEFAULT_PROCESS, removeOption } from "./dockerOptions.ts";
import { exitWith, fail } from "./errors.ts";
import { isValidImageReference } from "./git.ts";
import { verifyAppBash } from "./names.ts";
import { networkExists } from "./network.ts";
import { propDestroyScope, propGet, propSet } from "./properties.ts";
import { bashPropertySet } from "./propertyCommand.ts";
import { bashInfoLine } from "./report.ts";
import { parseServiceArgs, type ServiceOptions } from "./serviceArgs.ts";
import { backupCommands } from "./serviceBackups.ts";
import { dataCommands } from "./serviceData.ts";
import {
  dnsHostname,
  POSTGRES,
  REDIS,
  requireServiceName,
  type ServiceKind,
  serviceRoot,
  services,
  verifyService,
} from "./serviceKinds.ts";
import type { ServiceState } from "./state.ts";

const COLORS = [
  "AQUA",
  "BLACK",
  "BLUE",
  "FUCHSIA",
  "GRAY",
  "GREEN",
  "LIME",
  "MAROON",
  "NAVY",
  "OLIVE",
  "PURPLE",
  "RED",
  "SILVER",
  "TEAL",
  "WHITE",
  "YELLOW",
];

function linkedApps(state: ServiceState): string {
  return state.links.length === 0 ? "-" : `${state.links.join(" ")} `;
}

function infoRows(
  ctx: Ctx,
  kind: ServiceKind,
  service: string,
  state: ServiceState,
): Array<[string, string]> {
  const root = serviceRoot(kind, service);
  const present = state.status !== "missing";
  return [
    ["--config-dir", `${root}/${kind.configSuffix}`],
    ["--config-options", state.configOptions],
    ["--data-dir", `${root}/data`],
    ["--dsn", kind.url(service, state, kind.scheme)],
    ["--exposed-ports", "-"],
    ["--id", state.containerId],
    ["--internal-ip", present ? state.internalIp : ""],
    ["--initial-network", propGet(ctx.state, kind.prefix, service, "initial-network")],
    ["--links", linkedApps(state)],
    ["--post-create-network", propGet(ctx.state, kind.prefix, service, "post-create-network")],
    ["--post-start-network", propGet(ctx.state, kind.prefix, service, "post-start-network")],
    ["--service-root", root],
    ["--status", state.status],
    ["--version", present ? `${state.image}:${state.imageVersion}` : ""],
  ];
}

function printInfo(
  ctx: Ctx,
  kind: ServiceKind,
  service: string,
  state: ServiceState,
  infoFlag: string,
): void {
  const rows = infoRows(ctx, kind, service, state);
  if (infoFlag === "") {
    ctx.out.info2Quiet(`${service} ${kind.prefix} service information`);
    for (const [key, value] of rows) ctx.out.verbose(bashInfoLine(key.slice(2), value, 20, 25));
    return;
  }
  const match = rows.find(([key]) => key === infoFlag);
  if (!match) fail(`Invalid flag passed, valid flags: ${rows.map(([key]) => key).join(" ")}`);
  ctx.out.line(match[1]);
}

function create(kind: ServiceKind) {
  return (ctx: Ctx, args: string[]): void => {
    const [service = "", ...flags] = args;
    if (!/^[A-Za-z0-9_-]+$/.test(service)) {
      fail("Please specify a valid name for the service. Valid characters are: [A-Za-z0-9_]+");
    }
    if (services(ctx, kind)[service]) fail(`${kind.label} service ${service} already exists`);
    const options = parseServiceArgs(ctx, kind, "create", flags);
    const image = options.image || kind.image;
    const imageVersion = options.imageVersion || kind.imageVersion;
    const reference = `${image}:${imageVersion}`;
    if (!ctx.state.images.includes(reference)) {
      if (!isValidImageReference(reference)) {
        ctx.out.stderrLine("invalid reference format");
        fail(`${kind.label} image ${reference} pull failed`);
      }
      ctx.out.line(`Status: Downloaded newer image for ${reference}`);
      ctx.state.images.push(reference);
    }
    let password = ctx.randomHex(16);
    if (options.password) {
      password = options.password;
      ctx.out.warn("Specified password may not be as secure as the auto-generated password");
    }
    const state: ServiceState = {
      password,
      rootPassword: options.rootPassword ?? "",
      databaseName: service.replace(/[.-]/g, "_"),
      image,
      imageVersion,
      containerId: "",
      internalIp: "",
      configOptions: options.configOptions ?? "",
      customEnv: options.customEnv ?? "",
      memory: options.memory ?? "",
      shmSize: options.shmSize ?? "",
      links: [],
      status: "missing",
      backupEncryptionKey: "",
      backups: [],
      createdAt: Math.floor(ctx.now() / 1000),
    };
    services(ctx, kind)[service] = state;
    mkdirSync(serviceRoot(kind, service), { recursive: true });
    if (options.initialNetwork)
      propSet(ctx.state, kind.prefix, service, "initial-network", options.initialNetwork);
    if (options.postCreateNetwork)
      propSet(ctx.state, kind.prefix, service, "post-create-network", options.postCreateNetwork);
    if (options.postStartNetwork)
      propSet(ctx.state, kind.prefix, service, "post-start-network", options.postStartNetwork);

    // `docker container create` runs after the service directory exists, so a failure here leaves the service behind.
    if (options.initialNetwork && !networkExists(ctx, options.initialNetwork)) {
      ctx.out.line(`Error response from daemon: network ${options.initialNetwork} not found`);
      exitWith(1);
    }
    state.containerId = ctx.randomHex(32);
    state.status = "running";
    state.internalIp = options.initialNetwork
      ? ""
      : `172.17.0.${2 + Object.keys(services(ctx, kind)).length}`;
    for (const [label, list] of [
      ["create", options.postCreateNetwork],
      ["start", options.postStartNetwork],
    ] as const) {
      if (!list) continue;
      ctx.out.verboseQuiet(`Connecting to networks after container ${label}`);
      for (const network of list.split(",")) {
        ctx.out.verboseQuiet(`- ${network}`);
        if (!networkExists(ctx, network)) {
          ctx.out.stderrLine(`Error response from daemon: network ${network} not found`);
          exitWith(1);
        }
      }
    }
    ctx.out.verboseQuiet("Waiting for container to be ready");
    if (kind.prefix === "postgres") {
      ctx.out.verboseQuiet("Creating container database");
      ctx.out.verboseQuiet("Securing connection to database");
    }
    ctx.out.info2(`${kind.label} container created: ${service}`);
    printInfo(ctx, kind, service, state, "");
  };
}

function exists(kind: ServiceKind) {
  return (ctx: Ctx, args: string[]): void => {
    const service = args[0] ?? "";
    requireServiceName(service);
    verifyService(ctx, kind, service);
    ctx.out.info1(`Service ${service} exists`);
  };
}

function info(kind: ServiceKind) {
  return (ctx: Ctx, args: string[]): void => {
    const [service = "", infoFlag = ""] = args;
    requireServiceName(service);
    printInfo(ctx, kind, service, verifyService(ctx, kind, service), infoFlag);
  };
}

/** Config keys of the app whose value contains the service URL (upstream greps `config:show`). */
function linkKeys(ctx: Ctx, app: string, url: string): string[] {
  const env = ctx.state.apps[app]?.env ?? {};
  return Object.keys(env)
    .sort()
    .filter((key) => `${key}:  ${env[key] ?? ""}`.includes(url));
}

function schemeFor(ctx: Ctx, kind: ServiceKind, app: string): string {
  return ctx.state.apps[app]?.env[`${kind.prefix.toUpperCase()}_DATABASE_SCHEME`] || kind.scheme;
}

function noRestart(ctx: Ctx, options: ServiceOptions): boolean {
  return ctx.flags.raw.includes("--no-restart") || options.restartApps === "false";
}

function linkOption(kind: ServiceKind, service: string): string {
  return `--link dokku.${kind.prefix}.${service}:${dnsHostname(kind.prefix, service)}`;
}

function targetApp(ctx: Ctx, service: string, app: string): string {
  requireServiceName(service);
  const name = app || ctx.flags.appName;
  if (name === "") fail("Please specify an app to run the command on");
  return name;
}

function link(kind: ServiceKind) {
  return (ctx: Ctx, args: string[]): void => {
    const [service = "", appArg = "", ...flags] = args;
    const app = targetApp(ctx, service, appArg);
    const appState = verifyAppBash(ctx, app);
    const state = verifyService(ctx, kind, service);
    const options = parseServiceArgs(ctx, kind, "link", flags);
    let url = kind.url(service, state, schemeFor(ctx, kind, app));
    const existingKeys = Object.keys(appState.env).map((key) => `${key}:`);
    const inUse = (name: string): boolean => existingKeys.some((line) => line.includes(`${name}_URL`));
    let alias = kind.defaultAlias;
    if (options.alias) {
      alias = options.alias;
      if (inUse(alias)) fail(`Specified alias ${alias} already in use`);
    } else if (inUse(kind.defaultAlias)) {
      const color = COLORS.find((c) => !inUse(`${kind.altAlias}_${c}`));
      if (!color) fail("Unable to use default or generated URL alias");
      alias = `${kind.altAlias}_${color}`;
    }
    const linked = linkKeys(ctx, app, url);
    if (linked.length > 0) fail(`Already linked as ${linked.join("\n")}`);
    state.links = [...new Set([...state.links, app])].sort();
    addOption(appState, DEFAULT_PROCESS, ["build", "deploy", "run"], linkOption(kind, service));
    if (options.querystring) url = `${url}?${options.querystring}`;
    const skipRestart = noRestart(ctx, options);
    setConfigVars(ctx, app, { [`${alias}_URL`]: url }, { restart: !skipRestart });
    if (skipRestart) ctx.out.verbose("Skipping restart of linked app");
  };
}

function unlink(kind: ServiceKind) {
  return (ctx: Ctx, args: string[]): void => {
    const [service = "", appArg = ""] = args;
    const app = targetApp(ctx, service, appArg);
    const state = verifyService(ctx, kind, service);
    const appState = verifyAppBash(ctx, app);
    const keys = linkKeys(ctx, app, kind.url(service, state, schemeFor(ctx, kind, app)));
    // Upstream cleans LINKS and the docker option before it notices there was no link.
    state.links = state.links.filter((linkedApp) => linkedApp !== app);
    removeOption(appState, DEFAULT_PROCESS, ["build", "deploy", "run"], linkOption(kind, service));
    if (keys.length === 0) fail(`Not linked to app ${app}`);
    const skipRestart = noRestart(ctx, {});
    unsetConfigVars(ctx, app, keys, { restart: !skipRestart });
    if (skipRestart) ctx.out.verbose("Skipping restart of linked app");
  };
}

function linked(kind: ServiceKind) {
  return (ctx: Ctx, args: string[]): void => {
    const [service = "", appArg = ""] = args;
    const app = targetApp(ctx, service, appArg);
    verifyAppBash(ctx, app);
    const state = verifyService(ctx, kind, service);
    if (linkKeys(ctx, app, kind.url(service, state, schemeFor(ctx, kind, app))).length === 0) {
      ctx.out.warn(`Service ${service} is not linked to ${app}`);
      exitWith(1);
    }
    ctx.out.info1(`Service ${service} is linked to ${app}`);
  };
}

function links(kind: ServiceKind) {
  return (ctx: Ctx, args: string[]): void => {
    const service = args[0] ?? "";
    requireServiceName(service);
    for (const app of verifyService(ctx, kind, service).links) ctx.out.line(app);
  };
}

function list(kind: ServiceKind) {
  return (ctx: Ctx): void => {
    const names = Object.keys(services(ctx, kind)).sort();
    if (names.length === 0) {
      ctx.out.warn(`There are no ${kind.label} services`);
      return;
    }
    ctx.out.info2Quiet(`${kind.label} services`);
    for (const name of names) ctx.out.line(name);
  };
}

function appLinks(kind: ServiceKind) {
  return (ctx: Ctx, args: string[]): void => {
    const app = args[0] || ctx.flags.appName;
    if (app === "") fail("Please specify an app to run the command on");
    verifyAppBash(ctx, app);
    for (const [name, state] of Object.entries(services(ctx, kind)).sort(([a], [b]) => (a < b ? -1 : 1))) {
      if (state.links.includes(app)) ctx.out.line(name);
    }
  };
}

function destroy(kind: ServiceKind) {
  return (ctx: Ctx, args: string[]): void => {
    const [service = "", forceFlag = ""] = args;
    requireServiceName(service);
    const state = verifyService(ctx, kind, service);
    if (state.links.length > 0) fail("Cannot delete linked service");
    const force = ["force", "-f", "--force"].includes(forceFlag) || ctx.flags.force;
    if (!force) confirmBashService(ctx, service, kind.label);
    ctx.out.info2Quiet(`Deleting ${service}`);
    delete ctx.state.cronFiles[`dokku-${kind.prefix}-${service}`];
    if (state.status !== "missing") {
      ctx.out.info2Quiet("Pausing container");
      ctx.out.verboseQuiet("Container paused");
      ctx.out.verboseQuiet("Removing container");
    }
    ctx.out.verboseQuiet("Removing data");
    rmSync(serviceRoot(kind, service), { recursive: true, force: true });
    delete services(ctx, kind)[service];
    propDestroyScope(ctx.state, kind.prefix, service);
    ctx.out.info2(`${kind.label} container deleted: ${service}`);
  };
}

const SET_KEYS = ["initial-network", "post-create-network", "post-start-network"];

function set(kind: ServiceKind) {
  return (ctx: Ctx, args: string[]): void => {
    const [service = "", key = "", value = ""] = args;
    verifyService(ctx, kind, service);
    if (key === "") fail("No key specified");
    if (!SET_KEYS.includes(key)) fail(`Invalid key specified, valid keys include: ${SET_KEYS.join(", ")}`);
    bashPropertySet(ctx, kind.prefix, service, key, value);
  };
}

function servicePlugin(kind: ServiceKind): PluginModule {
  const p = kind.prefix;
  return {
    core: false,
    commands: {
      [`${p}:create`]: create(kind),
      [`${p}:exists`]: exists(kind),
      [`${p}:info`]: info(kind),
      [`${p}:link`]: link(kind),
      [`${p}:unlink`]: unlink(kind),
      [`${p}:linked`]: linked(kind),
      [`${p}:links`]: links(kind),
      [`${p}:list`]: list(kind),
      [`${p}:app-links`]: appLinks(kind),
      [`${p}:destroy`]: destroy(kind),
      [`${p}:set`]: set(kind),
      ...backupCommands(kind),
      ...dataCommands(kind),
    },
  };
}

export const postgresPlugin = servicePlugin(POSTGRES);
export const redisPlugin = servicePlugin(REDIS);
