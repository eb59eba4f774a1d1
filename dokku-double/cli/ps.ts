/**
 * The ps plugin (Go). On an undeployed app stop/start/restart only warn
 * ` !     App <app> has not been deployed` and exit 0, rebuild is a silent no-op,
 * and `ps:scale` just stores the formation.
 */
import type { PluginModule } from "./commands.ts";
import type { Ctx } from "./context.ts";
import { buildProxyConfig, deployApp, rebuildApp } from "./deploy.ts";
import { fail } from "./errors.ts";
import { type FlagSetSpec, parseFlags } from "./flags.ts";
import { goMarshal } from "./goJson.ts";
import { NO_APPS_MESSAGE, sortedAppNames, verifyAppGo } from "./names.ts";
import { GLOBAL_SCOPE, propComputed, propGet } from "./properties.ts";
import { commandPropertySet } from "./propertyCommand.ts";
import { runGoReport } from "./report.ts";

function lifecycleFlags(name: string): FlagSetSpec {
  return {
    name,
    flags: {
      all: { kind: "bool", usage: `--all: ${name.split(":")[1]} all apps` },
      parallel: {
        kind: "int",
        usage: "--parallel: number of apps to run in parallel, -1 to match cpu count",
        default: "1",
      },
    },
  };
}

/** `common.RunCommandAgainstAllApps`. */
function forAllApps(ctx: Ctx, action: (app: string) => void): void {
  const apps = sortedAppNames(ctx);
  if (apps.length === 0) {
    ctx.out.warn(NO_APPS_MESSAGE);
    return;
  }
  for (const app of apps) action(app);
}

function notDeployed(ctx: Ctx, app: string): boolean {
  if (ctx.state.apps[app]?.deployed) return false;
  ctx.out.warn(`App ${app} has not been deployed`);
  return true;
}

function stopApp(ctx: Ctx, name: string): void {
  if (notDeployed(ctx, name)) return;
  ctx.out.info1Quiet(`Stopping ${name}`);
  const app = ctx.state.apps[name];
  if (app) app.running = false;
}

function startApp(ctx: Ctx, name: string): void {
  if (notDeployed(ctx, name)) return;
  if (ctx.state.apps[name]?.running) {
    ctx.out.warn(`App ${name} already running`);
  } else {
    ctx.out.warn("App has been detected as not running, releasing");
    deployApp(ctx, name);
  }
  buildProxyConfig(ctx, name);
}

function restartApp(ctx: Ctx, name: string): void {
  if (notDeployed(ctx, name)) return;
  deployApp(ctx, name);
}

function lifecycle(name: string, action: (ctx: Ctx, app: string) => void) {
  return (ctx: Ctx, args: string[]): void => {
    const parsed = parseFlags(lifecycleFlags(name), args);
    if (parsed.bool("all")) {
      forAllApps(ctx, (app) => action(ctx, app));
      return;
    }
    const app = parsed.arg(0);
    verifyAppGo(ctx, app);
    action(ctx, app);
  };
}

function restart(ctx: Ctx, args: string[]): void {
  const parsed = parseFlags(lifecycleFlags("ps:restart"), args);
  const processName = parsed.arg(1);
  if (parsed.bool("all")) {
    if (processName !== "") fail("Unable to restart all apps when specifying a process name");
    forAllApps(ctx, (app) => restartApp(ctx, app));
    return;
  }
  verifyAppGo(ctx, parsed.arg(0));
  restartApp(ctx, parsed.arg(0));
}

interface Formation {
  process_type: string;
  quantity: number;
}

function formations(ctx: Ctx, app: string): Formation[] {
  const scale = ctx.state.apps[app]?.scale ?? {};
  return Object.keys(scale)
    .sort()
    .map((processType) => ({ process_type: processType, quantity: scale[processType] ?? 0 }));
}

function scaleReport(ctx: Ctx, app: string, format: string): void {
  const rows = formations(ctx, app);
  if (format === "json") {
    ctx.out.line(goMarshal(rows));
    return;
  }
  ctx.out.info1Quiet(`Scaling for ${app}`);
  const lines = ctx.out.quiet ? [] : ["proctype=qty", "--------=---"];
  lines.push(...rows.map((row) => `${row.process_type}=${row.quantity}`));
  for (const line of lines) {
    const [key = "", value = ""] = line.split("=");
    ctx.out.line(`${`${key}:`.padEnd(5, " ")} ${value}`);
  }
}

/** `parseProcessTuples`: `type=count`, first occurrence of a type wins. */
function parseTuples(tuples: readonly string[]): Formation[] {
  const seen = new Set<string>();
  const result: Formation[] = [];
  for (const tuple of tuples) {
    const eq = tuple.indexOf("=");
    if (eq === -1) fail(`Missing count for process type ${tuple}`);
    const processType = tuple.slice(0, eq).trim();
    const count = tuple.slice(eq + 1).trim();
    if (!/^[+-]?\d+$/.test(count)) fail(`Invalid count for process type ${tuple.slice(0, eq)}`);
    if (seen.has(processType)) continue;
    seen.add(processType);
    result.push({ process_type: processType, quantity: Number.parseInt(count, 10) });
  }
  return result;
}

function scale(ctx: Ctx, args: string[]): void {
  const parsed = parseFlags(
    {
      name: "ps:scale",
      flags: {
        "skip-deploy": { kind: "bool", usage: "--skip-deploy: skip deploy of the app" },
        format: { kind: "string", usage: "format: [ stdout | json ]", default: "stdout" },
      },
    },
    args,
  );
  const name = parsed.arg(0);
  const app = verifyAppGo(ctx, name);
  const tuples = parsed.args.slice(1);
  if (tuples.length === 0) {
    scaleReport(ctx, name, parsed.string("format"));
    return;
  }
  ctx.out.info1(`Scaling ${name} processes: ${tuples.join(" ")}`);
  const before = { ...app.scale };
  const updates = parseTuples(tuples);
  for (const update of updates) app.scale[update.process_type] = update.quantity;
  if (parsed.bool("skip-deploy") || !app.deployed) return;
  // Only the process types whose count changed are redeployed.
  for (const update of updates) {
    if (before[update.process_type] === update.quantity) continue;
    ctx.out.info1(`Deploying ${update.process_type} (count=${update.quantity})`);
    app.releases += 1;
  }
}

function rebuild(ctx: Ctx, args: string[]): void {
  const parsed = parseFlags(lifecycleFlags("ps:rebuild"), args);
  const action = (app: string): void => {
    // Without a source (never deployed) `receive-app` has nothing to build and exits 0 silently.
    if (ctx.state.apps[app]?.deploy) rebuildApp(ctx, app);
  };
  if (parsed.bool("all")) {
    forAllApps(ctx, action);
    return;
  }
  verifyAppGo(ctx, parsed.arg(0));
  action(parsed.arg(0));
}

const PS_SCHEMA = {
  app: [
    "dockerfile-start-cmd",
    "procfile-path",
    "restart-policy",
    "restore",
    "skip-deploy",
    "start-cmd",
    "stop-timeout-seconds",
  ],
  global: ["procfile-path", "restart-policy", "skip-deploy", "stop-timeout-seconds"],
};

function isValidRestartPolicy(policy: string): boolean {
  return (
    ["no", "always", "unless-stopped", "on-failure"].includes(policy) || policy.startsWith("on-failure:")
  );
}

function set(ctx: Ctx, args: string[]): void {
  const parsed = parseFlags(
    { name: "ps:set", flags: { global: { kind: "bool", usage: "--global: set a global property" } } },
    args,
  );
  const global = parsed.bool("global");
  const scope = global ? GLOBAL_SCOPE : parsed.arg(0);
  const property = global ? parsed.arg(0) : parsed.arg(1);
  const value = global ? parsed.arg(1) : parsed.arg(2);
  if (property === "restart-policy" && value !== "" && !isValidRestartPolicy(value))
    fail("Invalid restart-policy specified");
  commandPropertySet(ctx, "ps", scope, property, value, PS_SCHEMA);
}

function collect(ctx: Ctx, app: string): Record<string, string> {
  const s = ctx.state;
  const global = {
    "--ps-computed-procfile-path": propComputed(s, "ps", app, "procfile-path", "Procfile"),
    "--ps-computed-restart-policy": propComputed(s, "ps", app, "restart-policy", "on-failure:10"),
    "--ps-computed-skip-deploy": propComputed(s, "ps", app, "skip-deploy", "false"),
    "--ps-computed-stop-timeout-seconds": propComputed(s, "ps", app, "stop-timeout-seconds", "30"),
    "--ps-global-procfile-path": propGet(s, "ps", GLOBAL_SCOPE, "procfile-path"),
    "--ps-global-restart-policy": propGet(s, "ps", GLOBAL_SCOPE, "restart-policy"),
    "--ps-global-skip-deploy": propGet(s, "ps", GLOBAL_SCOPE, "skip-deploy"),
    "--ps-global-stop-timeout-seconds": propGet(s, "ps", GLOBAL_SCOPE, "stop-timeout-seconds"),
  };
  if (app === GLOBAL_SCOPE) return global;
  const state = s.apps[app];
  const processes = state?.deployed
    ? Object.values(state.scale).reduce((sum, n) => sum + Math.max(n, 0), 0)
    : 0;
  return {
    ...global,
    "--deployed": state?.deployed ? "true" : "false",
    "--processes": String(processes),
    "--ps-can-scale": "true",
    "--ps-computed-dockerfile-start-cmd": propGet(s, "ps", app, "dockerfile-start-cmd"),
    "--ps-computed-start-cmd": propGet(s, "ps", app, "start-cmd"),
    "--ps-dockerfile-start-cmd": propGet(s, "ps", app, "dockerfile-start-cmd"),
    "--ps-procfile-path": propGet(s, "ps", app, "procfile-path"),
    "--ps-restart-policy": propGet(s, "ps", app, "restart-policy"),
    "--ps-skip-deploy": propGet(s, "ps", app, "skip-deploy"),
    "--ps-start-cmd": propGet(s, "ps", app, "start-cmd"),
    "--ps-stop-timeout-seconds": propGet(s, "ps", app, "stop-timeout-seconds"),
    "--restore": propGet(s, "ps", app, "restore") || "true",
    "--running": state?.deployed && state.running ? "true" : "false",
  };
}

function report(ctx: Ctx, args: string[]): void {
  runGoReport(ctx, args, { plugin: "ps", reportType: "ps", emitLegacy: true, uppercase: true, collect });
}

export const plugin: PluginModule = {
  core: true,
  commands: {
    "ps:scale": scale,
    "ps:stop": lifecycle("ps:stop", stopApp),
    "ps:start": lifecycle("ps:start", startApp),
    "ps:restart": restart,
    "ps:rebuild": rebuild,
    "ps:set": set,
    "ps:report": report,
  },
};
