/**
 * The domains plugin: bash subcommands over the per-app and global VHOST files,
 * plus the Go `domains:report`. Quirks kept on purpose because clients meet them:
 * `domains:set` replaces everything (including `<app>.<global>`), `domains:remove`
 * treats its argument as a regex and always says "Removed", the domain argument
 * is checked before the app exists, and enable/disable only verify `--all`.
 */
import type { PluginModule } from "./commands.ts";
import { setConfigVars } from "./configVars.ts";
import type { Ctx } from "./context.ts";
import { buildProxyConfig } from "./deploy.ts";
import { exitWith, fail } from "./errors.ts";
import { sortedAppNames, verifyAppBash } from "./names.ts";
import { DOKKU_ROOT } from "./paths.ts";
import { GLOBAL_SCOPE } from "./properties.ts";
import { runGoReport } from "./report.ts";
import {
  defaultVhosts,
  globalVhosts,
  isAppVhostEnabled,
  isGlobalVhostEnabled,
  isValidHostname,
} from "./vhosts.ts";

/** `post-domains-update`: letsencrypt nags about new domains, nginx rebuilds a deployed app. */
function postDomainsUpdate(ctx: Ctx, app: string, action: string): void {
  buildProxyConfig(ctx, app);
  if (action === "add" || action === "set") {
    ctx.out.warn("Please run dokku letsencrypt:enable to add https support to the new domain");
  }
}

function disableAppVhost(ctx: Ctx, name: string): void {
  const app = ctx.state.apps[name];
  if (!app) return;
  if (app.vhosts !== null) {
    ctx.out.info1("App virtual host support disabled");
    app.vhosts = null;
  }
  setConfigVars(ctx, name, { NO_VHOST: "1" }, { restart: false, quiet: true });
  postDomainsUpdate(ctx, name, "disable");
}

function enableAppVhost(ctx: Ctx, name: string): void {
  setConfigVars(ctx, name, { NO_VHOST: "0" }, { restart: false, quiet: true });
  postDomainsUpdate(ctx, name, "enable");
}

/** `domains_setup`, run by `apps:create` and `domains:reset`. */
export function setupDomains(ctx: Ctx, name: string): void {
  const app = ctx.state.apps[name];
  if (!app || app.vhosts !== null) return;
  if (!isAppVhostEnabled(ctx.state, name)) {
    ctx.out.info1("App virtual host support disabled, skipping domain setup");
    return;
  }
  const defaults = defaultVhosts(ctx.state, name);
  if (defaults.length > 0) {
    ctx.out.info1Quiet("Creating new app virtual host file...");
    app.vhosts = defaults;
  } else {
    ctx.out.info1Quiet("Global server virtual host not set, disabling app vhost...");
    disableAppVhost(ctx, name);
  }
}

/** `domains_enable <app> --no-restart`. */
function enableDomains(ctx: Ctx, name: string): void {
  const app = touchVhostFile(ctx, name);
  if (isAppVhostEnabled(ctx.state, name)) {
    ctx.out.info1(`Domains (VHOST) support is already enabled for app (${name})`);
    return;
  }
  const defaults = defaultVhosts(ctx.state, name);
  if (defaults.length > 0) app.vhosts = defaults;
  enableAppVhost(ctx, name);
}

function disableDomains(ctx: Ctx, name: string): void {
  touchVhostFile(ctx, name);
  if (!isAppVhostEnabled(ctx.state, name)) {
    ctx.out.info1(`Domains (VHOST) support is already disabled for app (${name})`);
    return;
  }
  disableAppVhost(ctx, name);
}

/** `touch $DOKKU_ROOT/<app>/VHOST`, which fails under `set -e` when the app directory is missing. */
function touchVhostFile(ctx: Ctx, name: string) {
  const app = ctx.state.apps[name];
  if (!app) {
    ctx.out.stderrLine(`touch: cannot touch '${DOKKU_ROOT}/${name}/VHOST': No such file or directory`);
    exitWith(1);
  }
  app.vhosts ??= [];
  return app;
}

function requireDomain(app: string, domain: string | undefined, usageApp: boolean): void {
  if (domain === undefined || domain === "") {
    const usage = usageApp ? `dokku ${app} ${domain ?? ""} <domain>` : `dokku ${app} <domain>`;
    fail(`Please specify a domain name. Usage: ${usage} [<domain> ...]`);
  }
}

function validateAll(domains: readonly string[]): void {
  for (const domain of domains) if (!isValidHostname(domain)) fail(`${domain} is invalid. exiting...`);
}

/** `echo "$*" | tr " " "\n"`: the words of all arguments, one per line. */
function asLines(domains: readonly string[]): string[] {
  return domains.join(" ").split(" ");
}

/** `sed "\|^$DOMAIN\$|d"`: the domain is a basic regex (`.` and `*` are special, the rest literal). */
function domainLineMatcher(domain: string): RegExp {
  let source = "";
  for (const c of domain) {
    if (c === ".") source += ".";
    else if (c === "*" && source !== "") source += "*";
    else source += c.replace(/[\\^$.*+?()[\]{}|/]/g, "\\$&");
  }
  return new RegExp(`^${source}$`);
}

function set(ctx: Ctx, args: string[]): void {
  const [name = "", ...domains] = args;
  requireDomain(name, domains[0], true);
  const app = verifyAppBash(ctx, name);
  app.vhosts ??= [];
  validateAll(domains);
  app.vhosts = asLines(domains);
  ctx.out.info1(`Set ${domains.join(" ")} for ${name}`);
  if (!isAppVhostEnabled(ctx.state, name)) enableDomains(ctx, name);
  postDomainsUpdate(ctx, name, "set");
}

function add(ctx: Ctx, args: string[]): void {
  const [name = "", ...domains] = args;
  requireDomain(name, domains[0], true);
  const app = verifyAppBash(ctx, name);
  validateAll(domains);
  for (const domain of domains) {
    if ((app.vhosts ?? []).includes(domain)) {
      ctx.out.info1(`Skipping: ${domain} already added to ${name}`);
    } else {
      app.vhosts = [...(app.vhosts ?? []), domain];
      ctx.out.info1(`Added ${domain} to ${name}`);
    }
  }
  if (!isAppVhostEnabled(ctx.state, name)) enableDomains(ctx, name);
  postDomainsUpdate(ctx, name, "add");
}

function remove(ctx: Ctx, args: string[]): void {
  const [name = "", ...domains] = args;
  requireDomain(name, domains[0], true);
  const app = verifyAppBash(ctx, name);
  app.vhosts ??= [];
  for (const domain of domains) {
    const matcher = domainLineMatcher(domain);
    app.vhosts = app.vhosts.filter((line) => !matcher.test(line));
    ctx.out.info1(`Removed ${domain} from ${name}`);
  }
  postDomainsUpdate(ctx, name, "remove");
}

function clearApp(ctx: Ctx, name: string): void {
  const app = ctx.state.apps[name];
  if (app) app.vhosts = null;
  postDomainsUpdate(ctx, name, "clear");
  ctx.out.info1(`Cleared domains in ${name}`);
}

function clear(ctx: Ctx, args: string[]): void {
  const name = args[0] ?? "";
  if (name === "--all") {
    for (const app of sortedAppNames(ctx)) clearApp(ctx, app);
    return;
  }
  verifyAppBash(ctx, name);
  clearApp(ctx, name);
}

function reset(ctx: Ctx, args: string[]): void {
  const name = args[0] ?? "";
  verifyAppBash(ctx, name);
  clearApp(ctx, name);
  setupDomains(ctx, name);
  postDomainsUpdate(ctx, name, "reset");
  ctx.out.info1Quiet(`Reset domains for ${name}`);
}

function forEachTarget(ctx: Ctx, name: string, action: (app: string) => void): void {
  // Upstream verifies the app only when it is `--all` (`[[ $APP == --all ]] && verify_app_name`).
  if (name === "--all") verifyAppBash(ctx, name);
  action(name);
}

function enable(ctx: Ctx, args: string[]): void {
  forEachTarget(ctx, args[0] ?? "", (app) => enableDomains(ctx, app));
}

function disable(ctx: Ctx, args: string[]): void {
  forEachTarget(ctx, args[0] ?? "", (app) => disableDomains(ctx, app));
}

function setGlobal(ctx: Ctx, args: string[]): void {
  requireDomain(args[0] ?? "", args[0], false);
  ctx.state.globalVhosts ??= [];
  validateAll(args);
  ctx.state.globalVhosts = asLines(args);
  ctx.out.info1(`Set ${args.join(" ")}`);
}

function addGlobal(ctx: Ctx, args: string[]): void {
  requireDomain(args[0] ?? "", args[0], false);
  ctx.state.globalVhosts ??= [];
  validateAll(args);
  for (const domain of args) {
    if (ctx.state.globalVhosts.includes(domain)) {
      ctx.out.info1(`Skipping ${domain}: already added`);
    } else {
      ctx.state.globalVhosts.push(domain);
      ctx.out.info1(`Added ${domain}`);
    }
  }
}

function removeGlobal(ctx: Ctx, args: string[]): void {
  requireDomain(args[0] ?? "", args[0], false);
  for (const domain of args) {
    const matcher = domainLineMatcher(domain);
    ctx.state.globalVhosts = globalVhosts(ctx.state).filter((line) => !matcher.test(line));
    ctx.out.info1(`Removed ${domain}`);
  }
}

function clearGlobal(ctx: Ctx): void {
  ctx.out.info1Quiet("Clearing global domains");
  ctx.state.globalVhosts = [];
}

/** Go's `strings.Join(strings.Fields(text), " ")` over the file's lines. */
function fields(lines: readonly string[]): string {
  return lines
    .join("\n")
    .split(/\s+/)
    .filter((word) => word !== "")
    .join(" ");
}

function report(ctx: Ctx, args: string[]): void {
  runGoReport(ctx, args, {
    plugin: "domains",
    reportType: "domains",
    emitLegacy: false,
    uppercase: true,
    collect(c, app): Record<string, string> {
      const globalEnabled = isGlobalVhostEnabled(c.state);
      const global = {
        "--domains-global-enabled": globalEnabled ? "true" : "false",
        "--domains-global-vhosts": globalEnabled ? fields(globalVhosts(c.state)) : "",
      };
      if (app === GLOBAL_SCOPE) return global;
      const state = c.state.apps[app];
      return {
        "--domains-app-enabled": state?.env.NO_VHOST === "1" ? "false" : "true",
        "--domains-app-vhosts": fields(state?.vhosts ?? []),
        ...global,
      };
    },
  });
}

export const plugin: PluginModule = {
  core: true,
  commands: {
    "domains:set": set,
    "domains:add": add,
    "domains:remove": remove,
    "domains:clear": clear,
    "domains:reset": reset,
    "domains:enable": enable,
    "domains:disable": disable,
    "domains:set-global": setGlobal,
    "domains:add-global": addGlobal,
    "domains:remove-global": removeGlobal,
    "domains:clear-global": clearGlobal,
    "domains:report": report,
  },
};
