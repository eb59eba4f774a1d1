/**
 * The checks plugin: bash `checks:set` (whose only valid key in the source is
 * `wait-to-retire`, whatever the docs list), skip/disable/enable over
 * comma-separated process lists, and the Go `checks:report`.
 */
import type { PluginModule } from "./commands.ts";
import type { Ctx } from "./context.ts";
import { fail } from "./errors.ts";
import { verifyAppBash } from "./names.ts";
import { GLOBAL_SCOPE, propComputed, propDelete, propGet, propSet } from "./properties.ts";
import { bashPropertySet } from "./propertyCommand.ts";
import { runGoReport } from "./report.ts";

function set(ctx: Ctx, args: string[]): void {
  const [app = "", key = "", value = ""] = args;
  if (app !== GLOBAL_SCOPE) verifyAppBash(ctx, app);
  if (key === "") fail("No key specified");
  if (key !== "wait-to-retire") fail("Invalid key specified, valid keys include: wait-to-retire");
  bashPropertySet(ctx, "checks", app, key, value);
}

function list(value: string): string[] {
  return value === "" ? [] : value.split(",");
}

function writeList(ctx: Ctx, app: string, key: string, values: readonly string[]): void {
  if (values.length === 0) propDelete(ctx.state, "checks", app, key);
  else propSet(ctx.state, "checks", app, key, values.join(","));
}

/** skip and disable are mirror images: add to one list, remove from the other. */
function mark(kind: "skipped" | "disabled") {
  const other = kind === "skipped" ? "disabled" : "skipped";
  const verb = kind === "skipped" ? "Skipping" : "Disabling";
  return (ctx: Ctx, args: string[]): void => {
    const app = args[0] ?? "";
    verifyAppBash(ctx, app);
    const proctypes = args[1] || "_all_";
    if (proctypes === "_all_") {
      ctx.out.info1(`${verb} zero downtime for app (${app})`);
      propSet(ctx.state, "checks", app, kind, proctypes);
      propDelete(ctx.state, "checks", app, other);
      return;
    }
    ctx.out.info1(`${verb} zero downtime for app's (${app}) proctypes (${proctypes})`);
    let mine = list(propGet(ctx.state, "checks", app, kind));
    let theirs = list(propGet(ctx.state, "checks", app, other));
    for (const proctype of proctypes.split(",")) {
      if (!mine.includes(proctype)) mine.push(proctype);
      theirs = theirs.filter((entry) => entry !== proctype);
    }
    mine = mine.filter((entry) => entry !== "_all_");
    writeList(ctx, app, other, theirs);
    writeList(ctx, app, kind, mine);
  };
}

function enable(ctx: Ctx, args: string[]): void {
  const app = args[0] ?? "";
  verifyAppBash(ctx, app);
  const proctypes = args[1] || "_all_";
  if (proctypes === "_all_") {
    ctx.out.info1(`Enabling zero downtime for app's (${app})`);
    propDelete(ctx.state, "checks", app, "disabled");
    propDelete(ctx.state, "checks", app, "skipped");
    return;
  }
  ctx.out.info1(`Enabling zero downtime for app's (${app}) proctypes (${proctypes})`);
  const removed = proctypes.split(",");
  for (const key of ["disabled", "skipped"]) {
    writeList(
      ctx,
      app,
      key,
      list(propGet(ctx.state, "checks", app, key)).filter((entry) => !removed.includes(entry)),
    );
  }
}

function report(ctx: Ctx, args: string[]): void {
  runGoReport(ctx, args, {
    plugin: "checks",
    reportType: "checks",
    emitLegacy: false,
    uppercase: true,
    collect(c, app): Record<string, string> {
      const s = c.state;
      const values: Record<string, string> = {
        "--checks-computed-wait-to-retire": propComputed(s, "checks", app, "wait-to-retire", "60"),
        "--checks-global-wait-to-retire": propGet(s, "checks", GLOBAL_SCOPE, "wait-to-retire"),
      };
      if (app === GLOBAL_SCOPE) return values;
      return {
        ...values,
        "--checks-disabled-list": propGet(s, "checks", app, "disabled") || "none",
        "--checks-skipped-list": propGet(s, "checks", app, "skipped") || "none",
        "--checks-wait-to-retire": propGet(s, "checks", app, "wait-to-retire"),
      };
    },
  });
}

export const plugin: PluginModule = {
  core: true,
  commands: {
    "checks:set": set,
    "checks:skip": mark("skipped"),
    "checks:disable": mark("disabled"),
    "checks:enable": enable,
    "checks:report": report,
  },
};
