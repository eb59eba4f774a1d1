/**
 * The dokku-letsencrypt plugin (bash, community: reads `--app` itself). No ACME
 * server is contacted: `letsencrypt:enable` checks what upstream checks (app,
 * domains, email, an http port mapping for HTTP-01), then installs a synthetic
 * certificate valid for 90 days. It is idempotent the upstream way: no new
 * certificate while the current one is valid and the configuration unchanged.
 */
import { createHash } from "node:crypto";
import { certificateFacts, installTls } from "./certs.ts";
import type { PluginModule } from "./commands.ts";
import type { Ctx } from "./context.ts";
import { buildProxyConfig } from "./deploy.ts";
import { exitWith, fail } from "./errors.ts";
import { NO_APPS_MESSAGE, sortedAppNames, verifyAppBash } from "./names.ts";
import { effectivePortMaps, explicitPortMaps, setPortMaps } from "./ports.ts";
import { GLOBAL_SCOPE, propAll, propComputed, propGet } from "./properties.ts";
import { bashPropertySet } from "./propertyCommand.ts";
import { bashInfoLine } from "./report.ts";
import { appDomains } from "./vhosts.ts";

const PLUGIN = "letsencrypt";
const VALID_KEYS = ["dns-provider", "email", "graceperiod", "server", "lego-args", "lego-docker-options"];
const DEFAULT_GRACEPERIOD = String(60 * 60 * 24 * 30);
const CERT_LIFETIME_SECONDS = 90 * 24 * 60 * 60;

/** `[[ -n "$DOKKU_APP_NAME" ]] && set -- $DOKKU_APP_NAME $@` */
function withAppName(ctx: Ctx, args: string[]): string[] {
  return ctx.flags.appName !== "" ? [ctx.flags.appName, ...args] : args;
}

function leDomains(ctx: Ctx, app: string): string[] {
  return appDomains(ctx.state, app).filter((domain) => domain !== "_");
}

function computedServer(ctx: Ctx, app: string): string {
  const value = propComputed(ctx.state, PLUGIN, app, "server");
  if (value === "" || value === "default") return "https://acme-v02.api.letsencrypt.org/directory";
  if (value === "staging") return "https://acme-staging-v02.api.letsencrypt.org/directory";
  return value;
}

function computedDnsProvider(ctx: Ctx, app: string): string {
  const value = propComputed(ctx.state, PLUGIN, app, "dns-provider");
  return value === "none" ? "" : value;
}

/** Stands in for upstream's hash of the lego command line: a change means a new certificate. */
function configHash(ctx: Ctx, app: string): string {
  const parts = [
    computedServer(ctx, app),
    propComputed(ctx.state, PLUGIN, app, "email"),
    propComputed(ctx.state, PLUGIN, app, "lego-args"),
    computedDnsProvider(ctx, app),
    ...leDomains(ctx, app),
  ];
  return createHash("sha256").update(parts.join("\n")).digest("hex").slice(0, 16);
}

export function isLetsencryptActive(ctx: Ctx, app: string): boolean {
  const state = ctx.state.apps[app];
  return state?.tls?.source === "letsencrypt" && state.letsencrypt !== null;
}

/** `fn-letsencrypt-expiration`: the installed certificate's notAfter as epoch seconds, whoever issued it. */
function expiration(ctx: Ctx, app: string): string {
  const tls = ctx.state.apps[app]?.tls;
  if (!tls) return "";
  const facts = certificateFacts(tls);
  if (!facts) return "";
  const ms = Date.parse(facts.expiresAt.replace(/\s+/g, " "));
  return Number.isNaN(ms) ? "" : String(Math.floor(ms / 1000));
}

function needsIssue(ctx: Ctx, app: string): boolean {
  const state = ctx.state.apps[app];
  if (!isLetsencryptActive(ctx, app) || !state?.letsencrypt) return true;
  if (state.letsencrypt.configHash !== configHash(ctx, app)) return true;
  const grace = Number(propComputed(ctx.state, PLUGIN, app, "graceperiod", DEFAULT_GRACEPERIOD));
  return state.letsencrypt.expiresAt - grace - Math.floor(ctx.now() / 1000) < 0;
}

/** `fn-letsencrypt-ensure-http-port`: HTTP-01 needs an http:80 listener; add one next to an existing http/https mapping. */
function ensureHttpPort(ctx: Ctx, app: string): void {
  if (computedDnsProvider(ctx, app) !== "") return;
  const maps = effectivePortMaps(ctx, app);
  if (maps.some((map) => map.scheme === "http" && map.hostPort === 80)) return;
  const candidate = maps.find((map) => map.scheme === "http") ?? maps.find((map) => map.scheme === "https");
  if (!candidate) {
    ctx.out.warn(`Cannot enable letsencrypt for ${app}: no http or https proxy port mapping was found.`);
    ctx.out.warn("  letsencrypt needs an http listener on port 80 to serve the ACME HTTP-01 challenge.");
    ctx.out.warn(`  Add one with: dokku ports:add ${app} http:80:<container-port>`);
    exitWith(1);
  }
  ctx.out.info1(
    `Adding http:80:${candidate.containerPort} port mapping to ${app} for ACME HTTP-01 challenge...`,
  );
  const state = ctx.state.apps[app];
  if (state)
    setPortMaps(state, [
      ...explicitPortMaps(state),
      { scheme: "http", hostPort: 80, containerPort: candidate.containerPort },
    ]);
}

function enableOne(ctx: Ctx, app: string, force: boolean): void {
  verifyAppBash(ctx, app);
  const domains = leDomains(ctx, app);
  if (domains.length === 0) {
    ctx.out.warn(`No domains detected for ${app}`);
    exitWith(1);
  }
  ctx.out.info2(`Enabling letsencrypt for ${app}`);
  if (propComputed(ctx.state, PLUGIN, app, "email") === "") {
    ctx.out.warn("ERROR: Cannot request a certificate without an e-mail address!");
    ctx.out.warn("  please provide your e-mail address using");
    ctx.out.warn(`  dokku letsencrypt:set ${app} email <e-mail>`);
    exitWith(1);
  }
  if (!force && !needsIssue(ctx, app)) {
    ctx.out.info1(`Certificate is still valid for ${app}, skipping certificate request`);
    ctx.out.info1("Pass --force to letsencrypt:enable to request a new certificate anyway");
    return;
  }
  ensureHttpPort(ctx, app);
  ctx.out.info1(`Enabling ACME proxy for ${app}...`);
  ctx.out.verbose("Reloading nginx");
  const mode = computedDnsProvider(ctx, app) !== "" ? "DNS-01" : "HTTP-01";
  ctx.out.info1(`Getting letsencrypt certificate for ${app} via ${mode}`);
  for (const domain of domains) ctx.out.verbose(`- Domain '${domain}'`);
  const now = Math.floor(ctx.now() / 1000);
  const expiresAt = now + CERT_LIFETIME_SECONDS;
  const openssl = (epoch: number): string => {
    const d = new Date(epoch * 1000);
    const month = d.toLocaleString("en-US", { month: "short", timeZone: "UTC" });
    return `${month} ${String(d.getUTCDate()).padStart(2, " ")} ${d.toISOString().slice(11, 19)} ${d.getUTCFullYear()} GMT`;
  };
  ctx.out.info1("Certificate retrieved successfully.");
  ctx.out.info1("Installing let's encrypt certificates");
  installTls(ctx, app, {
    source: "letsencrypt",
    crtPem: "",
    keyPem: "",
    synthetic: {
      subject: `CN=${domains[0] ?? app}`,
      issuer: "C = US, O = Let's Encrypt, CN = R11",
      startsAt: openssl(now),
      expiresAt: openssl(expiresAt),
      hostnames: [...domains].sort(),
    },
  });
  const state = ctx.state.apps[app];
  if (state) state.letsencrypt = { configHash: configHash(ctx, app), expiresAt };
  ctx.out.info1(`Disabling ACME proxy for ${app}...`);
  ctx.out.verbose("Reloading nginx");
  ctx.out.info1("Done");
}

function enable(ctx: Ctx, args: string[]): void {
  const force = args.some((arg) => arg === "--force" || arg === "-f");
  const positional = withAppName(
    ctx,
    args.filter((arg) => arg !== "--force" && arg !== "-f"),
  );
  const app = positional[0] ?? "";
  if (app === "--all") {
    for (const name of sortedAppNames(ctx)) enableOne(ctx, name, force);
    return;
  }
  enableOne(ctx, app, force);
}

function disable(ctx: Ctx, args: string[]): void {
  const app = withAppName(ctx, args)[0] ?? "";
  const state = verifyAppBash(ctx, app);
  ctx.out.info1("Disabling letsencrypt for app");
  ctx.out.verbose(`Removing letsencrypt files for ${app}`);
  ctx.out.verbose(`Removing SSL endpoint from ${app}`);
  // Upstream deletes the whole tls directory, so a custom certificate goes too.
  state.tls = null;
  state.letsencrypt = null;
  buildProxyConfig(ctx, app);
  ctx.out.info1("Done");
}

function active(ctx: Ctx, args: string[]): void {
  const app = withAppName(ctx, args)[0] ?? "";
  verifyAppBash(ctx, app);
  ctx.out.line(isLetsencryptActive(ctx, app) ? "true" : "false");
}

function set(ctx: Ctx, args: string[]): void {
  const [app = "", key = "", value = ""] = args;
  if (app !== GLOBAL_SCOPE) verifyAppBash(ctx, app);
  if (key === "") fail("No key specified");
  if (!VALID_KEYS.includes(key) && !key.startsWith("dns-provider-")) {
    fail(
      "Invalid key specified, valid keys include: dns-provider, dns-provider-*, email, graceperiod, server, lego-args, lego-docker-options",
    );
  }
  bashPropertySet(ctx, PLUGIN, app, key, value);
}

function cronJob(ctx: Ctx, args: string[]): void {
  const flag = args[0] ?? "";
  if (flag === "--add") {
    ctx.state.letsencryptAutorenew = true;
    ctx.out.info1("Added cron job to dokku's crontab.");
  } else if (flag === "--remove") {
    ctx.state.letsencryptAutorenew = false;
    ctx.out.info1("Removed cron job from dokku's crontab.");
  } else if (flag === "") {
    const enabled = ctx.state.letsencryptAutorenew;
    ctx.out.info2Quiet(`Auto-renew cron job is ${enabled ? "enabled" : "not enabled"}`);
    ctx.out.verbose(
      `Run 'dokku letsencrypt:cron-job ${enabled ? "--remove' to disable" : "--add' to enable"}.`,
    );
  } else {
    fail(`Invalid flag '${flag}', specify --add, --remove, or no flag to display status.`);
  }
}

/** The report's flag map, in upstream's order (the JSON keeps that order, jq does not sort). */
function flagMap(ctx: Ctx, app: string): Array<[string, string]> {
  const s = ctx.state;
  const g = (key: string): string => propGet(s, PLUGIN, GLOBAL_SCOPE, key);
  const a = (key: string): string => (app === GLOBAL_SCOPE ? g(key) : propGet(s, PLUGIN, app, key));
  const computed = (key: string, fallback = ""): string => propComputed(s, PLUGIN, app, key, fallback);
  const rows: Array<[string, string]> = [
    [
      "--letsencrypt-active",
      app === GLOBAL_SCOPE ? "false" : isLetsencryptActive(ctx, app) ? "true" : "false",
    ],
    ["--letsencrypt-autorenew", s.letsencryptAutorenew ? "true" : "false"],
    ["--letsencrypt-computed-dns-provider", computedDnsProvider(ctx, app)],
    ["--letsencrypt-global-dns-provider", g("dns-provider")],
    ["--letsencrypt-dns-provider", a("dns-provider")],
    ["--letsencrypt-computed-email", computed("email")],
    ["--letsencrypt-global-email", g("email")],
    ["--letsencrypt-email", a("email")],
    ["--letsencrypt-expiration", app === GLOBAL_SCOPE ? "" : expiration(ctx, app)],
    ["--letsencrypt-computed-graceperiod", computed("graceperiod", DEFAULT_GRACEPERIOD)],
    ["--letsencrypt-global-graceperiod", g("graceperiod")],
    ["--letsencrypt-graceperiod", a("graceperiod")],
    ["--letsencrypt-computed-lego-args", computed("lego-args")],
    ["--letsencrypt-global-lego-args", g("lego-args")],
    ["--letsencrypt-lego-args", a("lego-args")],
    ["--letsencrypt-computed-lego-docker-options", computed("lego-docker-options")],
    ["--letsencrypt-global-lego-docker-options", g("lego-docker-options")],
    ["--letsencrypt-lego-docker-options", a("lego-docker-options")],
    ["--letsencrypt-computed-server", computedServer(ctx, app)],
    ["--letsencrypt-global-server", g("server")],
    ["--letsencrypt-server", a("server")],
  ];
  // Per-provider credentials are listed but always redacted (LETSENCRYPT_REPORT_SANITIZE).
  const providerKeys = new Set(
    [
      ...Object.keys(propAll(s, PLUGIN, GLOBAL_SCOPE) ?? {}),
      ...(app === GLOBAL_SCOPE ? [] : Object.keys(propAll(s, PLUGIN, app) ?? {})),
    ].filter((key) => key.startsWith("dns-provider-")),
  );
  for (const key of [...providerKeys].sort()) {
    const appValue = app === GLOBAL_SCOPE ? "" : propGet(s, PLUGIN, app, key);
    const globalValue = g(key);
    if (appValue !== "" || globalValue !== "") rows.push([`--letsencrypt-computed-${key}`, "****"]);
    if (globalValue !== "") rows.push([`--letsencrypt-global-${key}`, "****"]);
    if (appValue !== "") rows.push([`--letsencrypt-${key}`, "****"]);
  }
  return app === GLOBAL_SCOPE ? rows.filter(([key]) => key.includes("-global-")) : rows;
}

function reportOne(ctx: Ctx, app: string, infoFlag: string, format: string): void {
  if (app !== GLOBAL_SCOPE) verifyAppBash(ctx, app);
  const rows = flagMap(ctx, app);
  if (format !== "stdout" && infoFlag !== "")
    fail("--format flag cannot be specified when specifying an info flag");
  if (format === "json") {
    const data: Record<string, string> = {};
    for (const [key, value] of rows) data[key.replace(/^--letsencrypt-/, "")] = value;
    ctx.out.line(JSON.stringify(data));
    return;
  }
  if (infoFlag === "") {
    ctx.out.info2Quiet(
      app === GLOBAL_SCOPE ? "global letsencrypt information" : `${app} letsencrypt information`,
    );
    for (const [key, value] of rows) ctx.out.verbose(bashInfoLine(key.slice(2), value, 30, 25));
    return;
  }
  const match = rows.find(([key]) => key === infoFlag);
  if (!match) fail(`Invalid flag passed, valid flags: ${rows.map(([key]) => key).join(" ")}`);
  if (match[1] === "") fail("not deployed");
  ctx.out.line(match[1]);
}

function report(ctx: Ctx, args: string[]): void {
  let format = "stdout";
  let isGlobal = false;
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? "";
    if (arg === "--format") {
      format = args[i + 1] ?? "";
      i++;
    } else if (arg === "--global") {
      isGlobal = true;
    } else {
      rest.push(arg);
    }
  }
  let [app = "", infoFlag = ""] = rest;
  // `INSTALLED_APPS=$(dokku_apps)` runs first and fails the whole report on an empty host.
  if (sortedAppNames(ctx).length === 0) fail(NO_APPS_MESSAGE);
  if (app.startsWith("--")) {
    infoFlag = app;
    app = "";
  }
  if (isGlobal) app = GLOBAL_SCOPE;
  if (app !== "") {
    reportOne(ctx, app, infoFlag, format);
    return;
  }
  for (const name of sortedAppNames(ctx)) reportOne(ctx, name, infoFlag, format);
}

export const plugin: PluginModule = {
  core: false,
  commands: {
    "letsencrypt:set": set,
    "letsencrypt:enable": enable,
    "letsencrypt:disable": disable,
    "letsencrypt:active": active,
    "letsencrypt:cron-job": cronJob,
    "letsencrypt:report": report,
  },
};
