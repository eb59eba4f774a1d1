/**
 * App-name checks. Dokku has two, and they differ in exit codes:
 * - Go plugins (`common.VerifyAppName`): a malformed name fails with the regex
 *   message and exit 1; a well-formed but missing app exits 20.
 * - bash plugins (`verify_app_name`): anything that is not an existing app,
 *   malformed or not, is ` !     App <app> does not exist` with exit 20.
 */
import type { Ctx } from "./context.ts";
import { APP_MISSING_EXIT, fail } from "./errors.ts";
import type { AppState } from "./state.ts";

const NEW_APP_NAME = /^[a-z0-9][a-z0-9.-]*$/;
/** Existence checks still accept names created before 0.x, which allowed `_`. */
const LEGACY_APP_NAME = /^[a-z0-9][a-z0-9._-]*$/;

export const MISSING_APP_NAME = "Please specify an app to run the command on";
export const INVALID_APP_NAME =
  "App name must begin with lowercase alphanumeric character, and may only contain lowercase alphanumerics, dots, and hyphens";

/** `common.IsValidAppName`: the rule for new names. Returns the error message, or undefined. */
export function appNameProblem(name: string): string | undefined {
  if (name === "") return MISSING_APP_NAME;
  return NEW_APP_NAME.test(name) ? undefined : INVALID_APP_NAME;
}

export function appMissingMessage(name: string): string {
  return `App ${name} does not exist`;
}

/** `common.VerifyAppName` for Go plugins. */
export function verifyAppGo(ctx: Ctx, name: string): AppState {
  const problem = appNameProblem(name);
  if (problem !== undefined && !LEGACY_APP_NAME.test(name)) fail(problem);
  const app = ctx.state.apps[name];
  if (!app) fail(appMissingMessage(name), APP_MISSING_EXIT);
  return app;
}

/** bash `verify_app_name`: every failure is "does not exist", exit 20. */
export function verifyAppBash(ctx: Ctx, name: string): AppState {
  const app = ctx.state.apps[name];
  if (!app) fail(appMissingMessage(name), APP_MISSING_EXIT);
  return app;
}

/** `dokku_apps` / `common.DokkuApps`: sorted names, like a directory listing. */
export function sortedAppNames(ctx: Ctx): string[] {
  return Object.keys(ctx.state.apps).sort();
}

export const NO_APPS_MESSAGE = "You haven't deployed any applications yet";
