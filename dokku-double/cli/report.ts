/**
 * The `<plugin>:report` machinery shared by all Go plugins
 * (`common.ParseReportArgs`, `common.ReportSingleApp`):
 * - `X:report <app>` prints `=====> <app> <type> information` and padded
 *   `Key words:  value` lines, keys sorted;
 * - one info flag prints just the raw value; an unknown one fails with
 *   `Invalid flag passed, valid flags: …`;
 * - `--format json` prints one line of JSON strings, keys stripped of the
 *   `--<type>-` prefix (plus the legacy keys for plugins that still emit them);
 * - `--format=json` is not special-cased by the arg splitter, so it is an info flag;
 * - two info flags make `ParseReportArgs` fail, which most subcommands ignore:
 *   no output, exit 0.
 */
import type { Ctx } from "./context.ts";
import { DokkuFailure, fail, UsageExit } from "./errors.ts";
import { parseFlags } from "./flags.ts";
import { compareBytes, goMarshal, sortedRecord } from "./goJson.ts";
import { NO_APPS_MESSAGE, sortedAppNames, verifyAppGo } from "./names.ts";
import { GLOBAL_SCOPE } from "./properties.ts";

export interface ReportArgs {
  osArgs: string[];
  infoFlag: string;
  isGlobal: boolean;
  /** Set when more than one info flag was given. */
  error: string | undefined;
}

export function parseReportArgs(plugin: string, argv: readonly string[]): ReportArgs {
  const osArgs: string[] = [];
  const infoFlags: string[] = [];
  let isGlobal = false;
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i] ?? "";
    if (word === "--format") {
      if (i + 1 >= argv.length) {
        // Go indexes arguments[i+1] without a bounds check and panics.
        throw new UsageExit(
          `panic: runtime error: index out of range [${argv.length}] with length ${argv.length}\n\ngoroutine 1 [running]:\nmain.main()`,
          2,
        );
      }
      osArgs.push(word, argv[i + 1] ?? "");
      i++;
    } else if (word === "--global") {
      isGlobal = true;
    } else if (word.startsWith("--")) {
      infoFlags.push(word);
    } else {
      osArgs.push(word);
    }
  }
  const error = infoFlags.length > 1 ? `${plugin}:report command allows only a single flag` : undefined;
  return { osArgs, infoFlag: infoFlags.length === 1 ? (infoFlags[0] ?? "") : "", isGlobal, error };
}

export interface ReportRender {
  reportType: string;
  appName: string;
  infoFlag: string;
  values: Readonly<Record<string, string>>;
  format: string;
  emitLegacy: boolean;
  uppercase: boolean;
}

/** `common.ReportSingleApp` with `TrimPrefix: true`. */
export function renderReport(ctx: Ctx, input: ReportRender): void {
  const format = input.format === "" ? "stdout" : input.format;
  if (format !== "stdout" && format !== "json") fail(`Format must be "stdout" or "json": "${input.format}"`);
  if (format !== "stdout" && input.infoFlag !== "")
    fail("--format flag cannot be specified when specifying an info flag");

  if (format === "json") {
    ctx.out.line(goMarshal(reportJson(input.reportType, input.values, input.emitLegacy)));
    return;
  }

  const keys = Object.keys(input.values).sort(compareBytes);
  if (input.infoFlag === "") {
    const width = Math.max(31, ...keys.map((key) => key.length));
    ctx.out.info2Quiet(`${input.appName} ${input.reportType} information`);
    for (const key of keys) {
      let label = key.slice(2).replaceAll("-", " ").replaceAll(".", " ");
      if (input.uppercase) label = label.charAt(0).toUpperCase() + label.slice(1);
      ctx.out.verbose(`${`${label}:`.padEnd(width, " ")}${input.values[key] ?? ""}`);
    }
    return;
  }

  if (Object.hasOwn(input.values, input.infoFlag)) {
    ctx.out.line(input.values[input.infoFlag] ?? "");
    return;
  }
  fail(`Invalid flag passed, valid flags: ${keys.join(", ")}`);
}

/** The JSON object of a report: prefix-stripped keys, plus legacy `<type>-…` keys when asked. */
export function reportJson(
  reportType: string,
  values: Readonly<Record<string, string>>,
  emitLegacy: boolean,
): Record<string, string> {
  const prefix = `--${reportType}-`;
  const data: Record<string, string> = {};
  for (const [key, value] of Object.entries(values)) {
    const legacyKey = key.slice(2);
    if (key.startsWith(prefix)) {
      data[key.slice(prefix.length)] = value;
      if (emitLegacy) data[legacyKey] = value;
    } else {
      data[legacyKey] = value;
    }
  }
  return sortedRecord(data);
}

export interface GoReportSpec {
  /** Plugin name, used for the `<plugin>:report` flag set and its error text. */
  plugin: string;
  reportType: string;
  emitLegacy: boolean;
  uppercase: boolean;
  /** Flag → value for one app, or for `--global`. */
  collect(ctx: Ctx, app: string): Record<string, string>;
  /** docker-options reports the "only a single flag" error instead of ignoring it. */
  reportsFlagError?: boolean;
}

/** A whole `<plugin>:report` subcommand of a Go plugin. */
export function runGoReport(ctx: Ctx, argv: readonly string[], spec: GoReportSpec): void {
  const reportArgs = parseReportArgs(spec.plugin, argv);
  if (reportArgs.error !== undefined) {
    if (spec.reportsFlagError) fail(reportArgs.error);
    return;
  }
  const parsed = parseFlags(
    {
      name: `${spec.plugin}:report`,
      flags: { format: { kind: "string", usage: "format: [ stdout | json ]", default: "stdout" } },
    },
    reportArgs.osArgs,
  );
  const format = parsed.string("format");
  const appName = reportArgs.isGlobal ? GLOBAL_SCOPE : parsed.arg(0);
  const one = (app: string): void => {
    if (app !== GLOBAL_SCOPE) verifyAppGo(ctx, app);
    renderReport(ctx, {
      reportType: spec.reportType,
      appName: app,
      infoFlag: reportArgs.infoFlag,
      values: spec.collect(ctx, app),
      format,
      emitLegacy: spec.emitLegacy,
      uppercase: spec.uppercase,
    });
  };
  if (appName !== "") {
    one(appName);
    return;
  }
  const apps = sortedAppNames(ctx);
  if (apps.length === 0) {
    ctx.out.warn(NO_APPS_MESSAGE);
    return;
  }
  for (const app of apps) one(app);
}

/**
 * The bash plugins' `printf "%-N s %-M s"` info block (postgres/redis `:info`,
 * `letsencrypt:report`): `Key words:` padded, then the value padded too.
 * `key` is the flag name without its leading dashes.
 */
export function bashInfoLine(key: string, value: string, keyWidth: number, valueWidth: number): string {
  const label = `${key.replaceAll("-", " ")}:`;
  return `${(label.charAt(0).toUpperCase() + label.slice(1)).padEnd(keyWidth, " ")} ${value.padEnd(valueWidth, " ")}`;
}

export function isFailure(error: unknown): error is DokkuFailure {
  return error instanceof DokkuFailure;
}
