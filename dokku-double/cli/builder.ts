/** The builder plugin (Go): `builder:set` properties and `builder:report`. */
import type { PluginModule } from "./commands.ts";
import type { Ctx } from "./context.ts";
import { parseFlags } from "./flags.ts";
import { GLOBAL_SCOPE, propComputed, propGet } from "./properties.ts";
import { commandPropertySet } from "./propertyCommand.ts";
import { runGoReport } from "./report.ts";

function set(ctx: Ctx, args: string[]): void {
  const parsed = parseFlags(
    { name: "builder:set", flags: { global: { kind: "bool", usage: "--global: set a global property" } } },
    args,
  );
  const global = parsed.bool("global");
  const scope = global ? GLOBAL_SCOPE : parsed.arg(0);
  const property = global ? parsed.arg(0) : parsed.arg(1);
  const value = global ? parsed.arg(1) : parsed.arg(2);
  if (property === "detected") {
    ctx.out.warn("detected is a read-only property");
    return;
  }
  commandPropertySet(ctx, "builder", scope, property, value, {
    app: ["build-dir", "detected", "selected", "skip-cleanup"],
    global: ["build-dir", "selected", "skip-cleanup"],
  });
}

function report(ctx: Ctx, args: string[]): void {
  runGoReport(ctx, args, {
    plugin: "builder",
    reportType: "builder",
    emitLegacy: true,
    uppercase: true,
    collect(c, app): Record<string, string> {
      const s = c.state;
      const values: Record<string, string> = {
        "--builder-global-selected": propGet(s, "builder", GLOBAL_SCOPE, "selected"),
        "--builder-global-build-dir": propGet(s, "builder", GLOBAL_SCOPE, "build-dir"),
        "--builder-global-skip-cleanup": propGet(s, "builder", GLOBAL_SCOPE, "skip-cleanup"),
        "--builder-computed-skip-cleanup": propComputed(s, "builder", app, "skip-cleanup", "false"),
      };
      if (app === GLOBAL_SCOPE) return values;
      return {
        ...values,
        "--builder-computed-selected": propComputed(s, "builder", app, "selected"),
        "--builder-selected": propGet(s, "builder", app, "selected"),
        "--builder-detected": propGet(s, "builder", app, "detected"),
        "--builder-computed-build-dir": propComputed(s, "builder", app, "build-dir"),
        "--builder-build-dir": propGet(s, "builder", app, "build-dir"),
        "--builder-skip-cleanup": propGet(s, "builder", app, "skip-cleanup"),
      };
    },
  });
}

export const plugin: PluginModule = {
  core: true,
  commands: { "builder:set": set, "builder:report": report },
};
