/**
 * The plugin plugin (plugn underneath): `plugin:list`, `plugin:installed`,
 * `plugin:install`, `plugin:uninstall`. Everything but `list` and `help` must
 * run as root (dokku-cli.md §1.4) (` !     This command must be run as root`, exit 1),
 * which over SSH means the root shell (`ssh root@host dokku plugin:install …`),
 * never the `dokku@` forced command.
 *
 * Core plugins are always there. The community plugins tenants need (postgres,
 * redis, letsencrypt) are installed on a host that was never told otherwise
 * (state without a `plugins` entry, which is how every earlier instance and a
 * `reset()` look); `plugin:uninstall` makes a bare host, whose commands for that
 * plugin are then ` is not a dokku command` like on a fresh Dokku. The double has
 * no network: it installs only the three repositories it knows, each at its
 * pinned version, and fails a clone of anything else the way git would.
 */
import type { PluginModule } from "./commands.ts";
import type { Ctx } from "./context.ts";
import { DokkuFailure } from "./errors.ts";
import { DOKKU_LIB_ROOT, DOKKU_VERSION } from "./paths.ts";
import type { HostState, InstalledPlugin } from "./state.ts";

interface KnownPlugin {
  readonly url: string;
  readonly version: string;
  readonly description: string;
}

/** The community plugins the double can install (dokku-cli.md: the versions it imitates). */
export const COMMUNITY_PLUGINS: Readonly<Record<string, KnownPlugin>> = {
  letsencrypt: {
    url: "https://github.com/dokku/dokku-letsencrypt.git",
    version: "0.25.1",
    description: "Automated installation of let's encrypt TLS certificates",
  },
  postgres: {
    url: "https://github.com/dokku/dokku-postgres.git",
    version: "1.48.0",
    description: "dokku postgres service plugin",
  },
  redis: {
    url: "https://github.com/dokku/dokku-redis.git",
    version: "1.43.0",
    description: "dokku redis service plugin",
  },
};

const CORE_PLUGINS = [
  "00_dokku-standard",
  "20_events",
  "app-json",
  "apps",
  "builder",
  "certs",
  "checks",
  "config",
  "docker-options",
  "domains",
  "git",
  "network",
  "nginx-vhosts",
  "plugin",
  "ports",
  "proxy",
  "ps",
  "resource",
  "scheduler-docker-local",
  "storage",
];

/** The installed community plugins; a state that never recorded any has the default three. */
export function installedPlugins(state: HostState): Record<string, InstalledPlugin> {
  if (state.plugins) return state.plugins;
  return Object.fromEntries(
    Object.entries(COMMUNITY_PLUGINS).map(([name, p]) => [
      name,
      { url: p.url, version: p.version, committish: "" },
    ]),
  );
}

/** Whether commands of a community plugin exist on this host. */
export function isCommunityPluginMissing(state: HostState, name: string): boolean {
  return Object.hasOwn(COMMUNITY_PLUGINS, name) && !Object.hasOwn(installedPlugins(state), name);
}

function requireRoot(ctx: Ctx): void {
  if (ctx.user !== "root") throw new DokkuFailure("This command must be run as root");
}

function list(ctx: Ctx): void {
  ctx.out.line("plugn: 0.15.0");
  const rows: Array<[string, string, string]> = CORE_PLUGINS.map((name) => [
    name,
    DOKKU_VERSION,
    `dokku core ${name} plugin`,
  ]);
  for (const [name, plugin] of Object.entries(installedPlugins(ctx.state)))
    rows.push([name, plugin.version, COMMUNITY_PLUGINS[name]?.description ?? name]);
  rows.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  for (const [name, version, description] of rows)
    ctx.out.line(`  ${name.padEnd(20)} ${version.padEnd(8)} enabled    ${description}`);
}

function installed(ctx: Ctx, args: string[]): void {
  requireRoot(ctx);
  const name = args[0] ?? "";
  if (name === "") throw new DokkuFailure("Please specify a plugin name");
  if (!CORE_PLUGINS.includes(name) && !Object.hasOwn(installedPlugins(ctx.state), name))
    throw new DokkuFailure("", 1);
}

function install(ctx: Ctx, args: string[]): void {
  requireRoot(ctx);
  let url = "";
  let name = "";
  let committish = "";
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? "";
    if (arg === "--name") name = args[++i] ?? "";
    else if (arg === "--committish") committish = args[++i] ?? "";
    else if (arg === "--core") return;
    else if (url === "") url = arg;
  }
  if (url === "") {
    // Without a URL Dokku runs the install triggers of what is there: nothing to imitate.
    ctx.out.info1("Running plugin install triggers");
    return;
  }
  const known = Object.entries(COMMUNITY_PLUGINS).find(([, p]) => p.url === url);
  name ||= (url.split("/").at(-1) ?? "").replace(/\.git$/, "");
  const plugins = { ...installedPlugins(ctx.state) };
  if (Object.hasOwn(plugins, name) || CORE_PLUGINS.includes(name))
    throw new DokkuFailure(`Plugin ${name} is already installed`);
  ctx.out.info1(`Cloning plugin repo ${url} to ${DOKKU_LIB_ROOT}/plugins/available/${name}`);
  if (!known || known[0] !== name) {
    ctx.out.write("stderr", `fatal: unable to access '${url}': Could not resolve host\n`);
    throw new DokkuFailure(`Unable to install plugin ${name}`);
  }
  plugins[name] = { url, version: committish || known[1].version, committish };
  ctx.state.plugins = plugins;
  ctx.out.info1(`Plugin ${name} enabled`);
  ctx.out.info1("Running plugin install triggers");
}

function uninstall(ctx: Ctx, args: string[]): void {
  requireRoot(ctx);
  const name = args[0] ?? "";
  if (name === "") throw new DokkuFailure("Please specify a plugin name");
  if (CORE_PLUGINS.includes(name)) throw new DokkuFailure(`Plugin ${name} is a core plugin`);
  const plugins = { ...installedPlugins(ctx.state) };
  if (!Object.hasOwn(plugins, name)) throw new DokkuFailure(`Plugin ${name} is not installed`);
  delete plugins[name];
  ctx.state.plugins = plugins;
  ctx.out.info1(`Plugin ${name} uninstalled`);
}

export const plugin: PluginModule = {
  core: false,
  commands: {
    "plugin:list": list,
    "plugin:installed": installed,
    "plugin:install": install,
    "plugin:uninstall": uninstall,
  },
};
