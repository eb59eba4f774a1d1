/**
 * The config store and its side effects (plugins/config/config.go `SetMany`,
 * `UnsetMany`, `UnsetAll`), shared by `config:*`, domains (`NO_VHOST`), service
 * links (`DATABASE_URL`) and deploys (`GIT_REV`).
 */
import type { Ctx } from "./context.ts";
import { deployApp } from "./deploy.ts";
import { prettyEnv } from "./envfile.ts";
import { fail } from "./errors.ts";
import { propGet } from "./properties.ts";

const KEY = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

export function keyProblem(key: string): string | undefined {
  return KEY.test(key) ? undefined : `Invalid key name: '${key}'`;
}

/** `""` or `--global` is the global environment, anything else an app (assumed to exist). */
export function envOf(ctx: Ctx, scope: string): Record<string, string> {
  if (scope === "" || scope === "--global") return ctx.state.globalEnv;
  const app = ctx.state.apps[scope];
  if (!app) throw new Error(`envOf: app ${scope} does not exist`);
  return app.env;
}

export interface ChangeOptions {
  restart: boolean;
  /** Runs as if `DOKKU_QUIET_OUTPUT=1` (bash callers wrap `config_set` like that). */
  quiet?: boolean;
  replace?: boolean;
}

function isGlobal(scope: string): boolean {
  return scope === "" || scope === "--global";
}

/** `triggerRestart`: only deployed apps whose ps `restore` property is not `false`. */
function maybeRestart(ctx: Ctx, scope: string, restart: boolean): void {
  if (isGlobal(scope) || !restart) return;
  if (propGet(ctx.state, "ps", scope, "restore") === "false") return;
  if (!ctx.state.apps[scope]?.deployed) return;
  ctx.out.info1(`Restarting app ${scope}`);
  deployApp(ctx, scope);
}

export function setConfigVars(
  ctx: Ctx,
  scope: string,
  entries: Readonly<Record<string, string>>,
  options: ChangeOptions,
): void {
  const env = envOf(ctx, scope);
  for (const key of Object.keys(entries)) {
    const problem = keyProblem(key);
    if (problem) fail(problem);
  }
  if (options.replace) for (const key of Object.keys(env)) delete env[key];
  Object.assign(env, entries);
  const quiet = ctx.out.quiet || options.quiet === true;
  if (Object.keys(entries).length > 0 && !quiet) {
    ctx.out.info1("Setting config vars");
    ctx.out.line(prettyEnv("       ", entries));
  }
  maybeRestart(ctx, scope, options.restart);
}

export function unsetConfigVars(
  ctx: Ctx,
  scope: string,
  keys: readonly string[],
  options: ChangeOptions,
): void {
  const env = envOf(ctx, scope);
  for (const key of keys) {
    const problem = keyProblem(key);
    if (problem) fail(problem);
  }
  const quiet = ctx.out.quiet || options.quiet === true;
  for (const key of keys) {
    if (Object.hasOwn(env, key)) {
      if (!quiet) ctx.out.info1(`Unsetting ${key}`);
      delete env[key];
    } else if (!quiet) {
      ctx.out.info1(`Skipping ${key}, it is not set in the environment`);
    }
  }
  maybeRestart(ctx, scope, options.restart);
}

export function clearConfigVars(ctx: Ctx, scope: string, options: ChangeOptions): void {
  const env = envOf(ctx, scope);
  for (const key of Object.keys(env)) {
    if (!ctx.out.quiet) ctx.out.info1(`Unsetting ${key}`);
    delete env[key];
  }
  maybeRestart(ctx, scope, options.restart);
}
