/**
 * The apps plugin (Go): create, destroy, exists, list, report, lock/unlock, set.
 * Creation runs the domains post-create trigger, so a new app gets its default
 * `<app>.<global>` vhost or `NO_VHOST=1`.
 */
import type { PluginModule } from "./commands.ts";
import { confirmGo } from "./confirm.ts";
import type { Ctx } from "./context.ts";
import { setupDomains } from "./domains.ts";
import { fail } from "./errors.ts";
import { parseFlags } from "./flags.ts";
import { goMarshal } from "./goJson.ts";
import { appNameProblem, NO_APPS_MESSAGE, sortedAppNames, verifyAppGo } from "./names.ts";
import { DOKKU_ROOT } from "./paths.ts";
import { GLOBAL_SCOPE, propDestroyScopeEverywhere, propGet } from "./properties.ts";
import { commandPropertySet } from "./propertyCommand.ts";
import { runGoReport } from "./report.ts";
import { newApp } from "./state.ts";

function create(ctx: Ctx, args: string[]): void {
  const parsed = parseFlags({ name: "apps:create", flags: {} }, args);
  const name = parsed.arg(0);
  const problem = appNameProblem(name);
  if (problem) fail(problem);
  if (ctx.state.apps[name]) fail("Name is already taken");
  ctx.out.info1Quiet(`Creating ${name}...`);
  ctx.state.apps[name] = newApp(Math.floor(ctx.now() / 1000));
  setupDomains(ctx, name);
}

/** `pre-delete` of the service plugins: the app leaves every LINKS file, service data stays. */
function unlinkFromServices(ctx: Ctx, name: string): void {
  for (const services of Object.values(ctx.state.services)) {
    for (const service of Object.values(services))
      service.links = service.links.filter((app) => app !== name);
  }
}

function destroy(ctx: Ctx, args: string[]): void {
  const parsed = parseFlags(
    {
      name: "apps:destroy",
      flags: { force: { kind: "bool", usage: "--force: force destroy without confirmation" } },
    },
    args,
  );
  const name = parsed.arg(0);
  verifyAppGo(ctx, name);
  if (parsed.bool("force")) ctx.flags.force = true;
  if (!ctx.flags.force) confirmGo(ctx, name, "app");
  ctx.out.info1(`Destroying ${name} (including all add-ons)`);
  unlinkFromServices(ctx, name);
  ctx.out.info1("Retiring old containers and images");
  delete ctx.state.apps[name];
  propDestroyScopeEverywhere(ctx.state, name);
}

function exists(ctx: Ctx, args: string[]): void {
  const parsed = parseFlags({ name: "apps:exists", flags: {} }, args);
  verifyAppGo(ctx, parsed.arg(0));
}

function list(ctx: Ctx, args: string[]): void {
  const parsed = parseFlags(
    {
      name: "apps:list",
      flags: { format: { kind: "string", usage: "format: [ stdout | json ]", default: "stdout" } },
    },
    args,
  );
  const apps = sortedAppNames(ctx);
  if (parsed.string("format") === "json") {
    ctx.out.line(goMarshal(apps));
    return;
  }
  ctx.out.info2Quiet("My Apps");
  if (apps.length === 0) {
    ctx.out.warn(NO_APPS_MESSAGE);
    return;
  }
  for (const app of apps) ctx.out.line(app);
}

function report(ctx: Ctx, args: string[]): void {
  runGoReport(ctx, args, {
    plugin: "apps",
    reportType: "app",
    emitLegacy: true,
    uppercase: true,
    collect(c, app): Record<string, string> {
      const disableAutocreation = propGet(c.state, "apps", GLOBAL_SCOPE, "disable-autocreation");
      if (app === GLOBAL_SCOPE) return { "--app-global-disable-autocreation": disableAutocreation };
      const state = c.state.apps[app];
      return {
        "--app-created-at": state ? String(state.createdAt) : "",
        "--app-deploy-source": state?.deploy?.source ?? "",
        "--app-deploy-source-metadata": state?.deploy?.metadata ?? "",
        "--app-dir": `${DOKKU_ROOT}/${app}`,
        "--app-global-disable-autocreation": disableAutocreation,
        "--app-locked": state?.locked ? "true" : "false",
      };
    },
  });
}

function lock(ctx: Ctx, args: string[]): void {
  const app = verifyAppGo(ctx, parseFlags({ name: "apps:lock", flags: {} }, args).arg(0));
  app.locked = true;
  ctx.out.info1("Deploy lock created");
}

function unlock(ctx: Ctx, args: string[]): void {
  const app = verifyAppGo(ctx, parseFlags({ name: "apps:unlock", flags: {} }, args).arg(0));
  if (!app.locked) fail("Unable to remove deploy lock");
  ctx.out.warn("A deploy may be in progress.");
  ctx.out.warn("Removing the app lock will not stop in progress deploys.");
  app.locked = false;
  ctx.out.info1("Deploy lock removed");
}

function locked(ctx: Ctx, args: string[]): void {
  const app = verifyAppGo(ctx, parseFlags({ name: "apps:locked", flags: {} }, args).arg(0));
  if (!app.locked) fail("Deploy lock does not exist");
  ctx.out.lineQuiet("Deploy lock exists");
}

function set(ctx: Ctx, args: string[]): void {
  const parsed = parseFlags(
    { name: "apps:set", flags: { global: { kind: "bool", usage: "--global: set a global property" } } },
    args,
  );
  const global = parsed.bool("global");
  const scope = global ? GLOBAL_SCOPE : parsed.arg(0);
  const property = global ? parsed.arg(0) : parsed.arg(1);
  const value = global ? parsed.arg(1) : parsed.arg(2);
  if (scope !== GLOBAL_SCOPE && property === "disable-autocreation")
    fail("Property can only be specified globally");
  commandPropertySet(ctx, "apps", scope, property, value, {
    app: ["disable-autocreation"],
    global: ["disable-autocreation"],
  });
}

export const plugin: PluginModule = {
  core: true,
  commands: {
    "apps:create": create,
    "apps:destroy": destroy,
    "apps:exists": exists,
    "apps:list": list,
    "apps:report": report,
    "apps:lock": lock,
    "apps:unlock": unlock,
    "apps:locked": locked,
    "apps:set": set,
  },
};
