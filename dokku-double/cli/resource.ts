/**
 * The resource plugin (Go): limits and reservations per process type, stored as
 * `<type>.<limit|reserve>.<key>` properties. Report flags exist only for keys
 * that are set; `clear` as a value deletes one key; `limit-clear` without a
 * process type deletes every resource property of the app (limits and
 * reservations alike, as upstream does).
 */
import type { PluginModule } from "./commands.ts";
import type { Ctx } from "./context.ts";
import { type FlagSetSpec, parseFlags } from "./flags.ts";
import { verifyAppGo } from "./names.ts";
import { propAll, propDelete, propGet, propSet, propTouchScope } from "./properties.ts";
import { runGoReport } from "./report.ts";

const KEYS = [
  "cpu",
  "memory",
  "memory-swap",
  "network",
  "network-ingress",
  "network-egress",
  "nvidia-gpu",
] as const;
type ResourceType = "limit" | "reserve";

function noun(type: ResourceType): string {
  return type === "reserve" ? "reservation" : "limits";
}

function propertyKey(processType: string, type: ResourceType, key: string): string {
  return `${processType}.${type}.${key}`;
}

function setFlags(type: ResourceType): FlagSetSpec {
  const verb = type === "limit" ? "limit processes by" : "reserve for processes";
  const flags: FlagSetSpec["flags"] = {
    "process-type": { kind: "string", usage: "process-type: A process type to manage" },
  };
  for (const key of KEYS) flags[key] = { kind: "string", usage: `${key}: The amount of ${key} to ${verb}` };
  return { name: `resource:${type}`, flags };
}

function setResources(type: ResourceType) {
  return (ctx: Ctx, args: string[]): void => {
    const parsed = parseFlags(setFlags(type), args);
    const app = parsed.arg(0);
    verifyAppGo(ctx, app);
    const processType = parsed.string("process-type") || "_default_";
    const values = KEYS.map((key) => [key, parsed.string(key)] as const).filter(([, value]) => value !== "");
    propTouchScope(ctx.state, "resource", app);
    if (values.length === 0) {
      const suffix = processType === "_default_" ? "[defaults]" : `(${processType})`;
      ctx.out.info2Quiet(`resource ${noun(type)} ${app} information ${suffix}`);
      for (const key of KEYS)
        ctx.out.verbose(
          `${key}: ${propGet(ctx.state, "resource", app, propertyKey(processType, type, key))}`,
        );
      return;
    }
    const suffix = processType === "_default_" ? "" : ` (${processType})`;
    ctx.out.info2Quiet(`Setting resource ${noun(type)} for ${app}${suffix}`);
    for (const [key, value] of values) {
      const property = propertyKey(processType, type, key);
      if (value === "clear") {
        ctx.out.verbose(`${key}: cleared`);
        propDelete(ctx.state, "resource", app, property);
      } else {
        ctx.out.verbose(`${key}: ${value}`);
        propSet(ctx.state, "resource", app, property, value);
      }
    }
  };
}

function clearResources(type: ResourceType) {
  return (ctx: Ctx, args: string[]): void => {
    const parsed = parseFlags(
      {
        name: `resource:${type}-clear`,
        flags: { "process-type": { kind: "string", usage: "process-type: A process type to clear" } },
      },
      args,
    );
    const app = parsed.arg(0);
    verifyAppGo(ctx, app);
    const processType = parsed.string("process-type");
    const suffix = processType !== "" && processType !== "_default_" ? ` (${processType})` : "";
    ctx.out.info2Quiet(`clearing ${app} ${noun(type)}${suffix}`);
    const all = propAll(ctx.state, "resource", app) ?? {};
    if (processType === "") {
      for (const key of Object.keys(all)) propDelete(ctx.state, "resource", app, key);
      return;
    }
    for (const key of KEYS) propDelete(ctx.state, "resource", app, propertyKey(processType, type, key));
  };
}

function report(ctx: Ctx, args: string[]): void {
  runGoReport(ctx, args, {
    plugin: "resource",
    reportType: "resource",
    emitLegacy: true,
    uppercase: false,
    collect(c, app): Record<string, string> {
      const values: Record<string, string> = {};
      for (const [key, value] of Object.entries(propAll(c.state, "resource", app) ?? {}))
        values[`--resource-${key}`] = value;
      return values;
    },
  });
}

export const plugin: PluginModule = {
  core: true,
  commands: {
    "resource:limit": setResources("limit"),
    "resource:reserve": setResources("reserve"),
    "resource:limit-clear": clearResources("limit"),
    "resource:reserve-clear": clearResources("reserve"),
    "resource:report": report,
  },
};
