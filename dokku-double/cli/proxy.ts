/**
 * The nginx-vhosts plugin (`nginx:set`, `nginx:report`) and the proxy plugin
 * (`proxy:set`, `proxy:build-config`, `proxy:report`). Values are not validated
 * (except `proxy-keepalive`) and only take effect at the next config build.
 */
import type { PluginModule } from "./commands.ts";
import type { Ctx } from "./context.ts";
import { buildProxyConfig } from "./deploy.ts";
import { fail } from "./errors.ts";
import { parseFlags } from "./flags.ts";
import { NO_APPS_MESSAGE, sortedAppNames, verifyAppGo } from "./names.ts";
import { GLOBAL_SCOPE, propComputed, propGet } from "./properties.ts";
import { bashPropertySet, commandPropertySet } from "./propertyCommand.ts";
import { runGoReport } from "./report.ts";

const NGINX_LOG_ROOT = "/var/log/nginx";

/** Every nginx property and its computed default (`""` when upstream has none); `APP` is replaced by the app name. */
const NGINX_PROPERTIES: Record<string, string> = {
  "access-log-format": "",
  "access-log-path": `${NGINX_LOG_ROOT}/APP-access.log`,
  "bind-address-ipv4": "",
  "bind-address-ipv6": "::",
  "client-body-timeout": "60s",
  "client-header-timeout": "60s",
  "client-max-body-size": "1m",
  "disable-custom-config": "false",
  "error-log-path": `${NGINX_LOG_ROOT}/APP-error.log`,
  "hsts-include-subdomains": "true",
  "hsts-max-age": "15724800",
  "hsts-preload": "false",
  hsts: "true",
  "keepalive-timeout": "75s",
  "lingering-timeout": "5s",
  "nginx-conf-sigil-path": "nginx.conf.sigil",
  "nginx-service-command": "",
  "proxy-buffer-size": "4k",
  "proxy-buffering": "on",
  "proxy-buffers": "8 4k",
  "proxy-busy-buffers-size": "8k",
  "proxy-connect-timeout": "60s",
  "proxy-keepalive": "",
  "proxy-read-timeout": "60s",
  "proxy-send-timeout": "60s",
  "send-timeout": "60s",
  "underscore-in-headers": "off",
  "x-forwarded-for-value": "$remote_addr",
  "x-forwarded-port-value": "$server_port",
  "x-forwarded-proto-value": "$scheme",
  "x-forwarded-ssl": "",
};

/** The order upstream lists valid keys in its error message. */
const NGINX_KEY_ORDER = [
  "access-log-format",
  "access-log-path",
  "bind-address-ipv4",
  "bind-address-ipv6",
  "client-body-timeout",
  "client-header-timeout",
  "client-max-body-size",
  "disable-custom-config",
  "error-log-path",
  "hsts",
  "hsts-include-subdomains",
  "hsts-preload",
  "hsts-max-age",
  "keepalive-timeout",
  "lingering-timeout",
  "nginx-conf-sigil-path",
  "nginx-service-command",
  "proxy-buffer-size",
  "proxy-buffering",
  "proxy-buffers",
  "proxy-busy-buffers-size",
  "proxy-connect-timeout",
  "proxy-read-timeout",
  "proxy-send-timeout",
  "proxy-keepalive",
  "send-timeout",
  "underscore-in-headers",
  "x-forwarded-for-value",
  "x-forwarded-port-value",
  "x-forwarded-proto-value",
  "x-forwarded-ssl",
];

function nginxSet(ctx: Ctx, args: string[]): void {
  const [app = "", key = "", value = ""] = args;
  if (key === "") fail("No key specified");
  if (!Object.hasOwn(NGINX_PROPERTIES, key))
    fail(`Invalid key specified, valid keys include: ${NGINX_KEY_ORDER.join(", ")}`);
  // Every key is global-capable upstream, so the app is never verified here.
  if (key === "proxy-keepalive" && value !== "" && !/^[0-9]+$/.test(value)) {
    fail("Invalid value for proxy-keepalive: must be an integer");
  }
  bashPropertySet(ctx, "nginx", app, key, value);
}

function nginxReport(ctx: Ctx, args: string[]): void {
  runGoReport(ctx, args, {
    plugin: "nginx",
    reportType: "nginx",
    emitLegacy: false,
    uppercase: true,
    collect(c, app): Record<string, string> {
      const values: Record<string, string> = {};
      for (const [name, fallback] of Object.entries(NGINX_PROPERTIES)) {
        values[`--nginx-global-${name}`] = propGet(c.state, "nginx", GLOBAL_SCOPE, name);
        if (app === GLOBAL_SCOPE) continue;
        values[`--nginx-${name}`] = propGet(c.state, "nginx", app, name);
        values[`--nginx-computed-${name}`] = propComputed(
          c.state,
          "nginx",
          app,
          name,
          fallback.replace("APP", app),
        );
      }
      if (app !== GLOBAL_SCOPE) values["--nginx-last-visited-at"] = "";
      return values;
    },
  });
}

function buildConfig(ctx: Ctx, args: string[]): void {
  const parsed = parseFlags(
    {
      name: "proxy:build-config",
      flags: {
        all: { kind: "bool", usage: "--all: build-config for all apps" },
        parallel: {
          kind: "int",
          usage: "--parallel: number of apps to build-config in parallel, -1 to match cpu count",
          default: "1",
        },
      },
    },
    args,
  );
  if (parsed.bool("all")) {
    const apps = sortedAppNames(ctx);
    if (apps.length === 0) ctx.out.warn(NO_APPS_MESSAGE);
    for (const app of apps) buildProxyConfig(ctx, app);
    return;
  }
  verifyAppGo(ctx, parsed.arg(0));
  buildProxyConfig(ctx, parsed.arg(0));
}

const PROXY_SCHEMA = {
  app: ["disabled", "proxy-port", "proxy-ssl-port", "type"],
  global: ["proxy-port", "proxy-ssl-port", "type"],
};

function proxySet(ctx: Ctx, args: string[]): void {
  const parsed = parseFlags(
    { name: "proxy:set", flags: { global: { kind: "bool", usage: "--global: set a global property" } } },
    args,
  );
  const global = parsed.bool("global");
  const scope = global ? GLOBAL_SCOPE : parsed.arg(0);
  let property = global ? parsed.arg(0) : parsed.arg(1);
  let value = global ? parsed.arg(1) : parsed.arg(2);
  // Backwards compatibility: `proxy:set <app> <type>` means `proxy:set <app> type <type>`.
  if (!PROXY_SCHEMA.app.includes(property) && value === "") {
    if (property.includes(":")) {
      ctx.out.warn("Detected potential port mapping instead of proxy type");
      fail("Consider using ports:set command or specifying a valid proxy");
    }
    value = property;
    property = "type";
  }
  commandPropertySet(ctx, "proxy", scope, property, value, PROXY_SCHEMA);
}

function proxyReport(ctx: Ctx, args: string[]): void {
  runGoReport(ctx, args, {
    plugin: "proxy",
    reportType: "proxy",
    emitLegacy: true,
    uppercase: true,
    collect(c, app): Record<string, string> {
      const s = c.state;
      const values: Record<string, string> = {
        "--proxy-computed-proxy-port": propComputed(s, "proxy", app, "proxy-port"),
        "--proxy-computed-proxy-ssl-port": propComputed(s, "proxy", app, "proxy-ssl-port"),
        "--proxy-computed-type": propComputed(s, "proxy", app, "type", "nginx"),
        "--proxy-global-proxy-port": propGet(s, "proxy", GLOBAL_SCOPE, "proxy-port"),
        "--proxy-global-proxy-ssl-port": propGet(s, "proxy", GLOBAL_SCOPE, "proxy-ssl-port"),
        "--proxy-global-type": propGet(s, "proxy", GLOBAL_SCOPE, "type"),
      };
      if (app === GLOBAL_SCOPE) return values;
      const disabled = propGet(s, "proxy", app, "disabled") || "false";
      return {
        ...values,
        "--proxy-computed-disabled": disabled,
        "--proxy-disabled": disabled,
        "--proxy-enabled": disabled === "true" ? "false" : "true",
        "--proxy-proxy-port": propGet(s, "proxy", app, "proxy-port"),
        "--proxy-proxy-ssl-port": propGet(s, "proxy", app, "proxy-ssl-port"),
        "--proxy-type": propGet(s, "proxy", app, "type"),
      };
    },
  });
}

export const nginxPlugin: PluginModule = {
  core: true,
  commands: { "nginx:set": nginxSet, "nginx:report": nginxReport },
};

export const proxyPlugin: PluginModule = {
  core: true,
  commands: { "proxy:build-config": buildConfig, "proxy:set": proxySet, "proxy:report": proxyReport },
};
