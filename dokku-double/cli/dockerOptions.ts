/**
 * The docker-options plugin (Go). `add` appends (duplicates included, the list
 * is only sorted), `remove` matches shell word by word and is silent when
 * nothing matches. An option string is split on flag boundaries, so
 * `--link a --link b` stores two options. Flags must precede the app
 * (interspersing is off), so everything after the phase is option text.
 */
import type { PluginModule } from "./commands.ts";
import type { Ctx } from "./context.ts";
import { fail } from "./errors.ts";
import { type FlagSetSpec, parseFlags } from "./flags.ts";
import { goMarshal } from "./goJson.ts";
import { NO_APPS_MESSAGE, sortedAppNames, verifyAppGo } from "./names.ts";
import { GLOBAL_SCOPE } from "./properties.ts";
import { parseReportArgs, renderReport, reportJson } from "./report.ts";
import { joinShellWords, ShellWordsError, splitShellWords } from "./shellWords.ts";
import type { AppState } from "./state.ts";

const PHASES = ["build", "deploy", "run"];
export const DEFAULT_PROCESS = "_default_";

function scopedFlags(name: string): FlagSetSpec {
  return {
    name,
    interspersed: false,
    flags: {
      process: { kind: "strings", usage: "process types to scope this option to (deploy phase only)" },
    },
  };
}

function parsePhases(value: string): string[] {
  if (value === "") return [];
  const phases = value.split(",");
  for (const phase of phases)
    if (!PHASES.includes(phase)) fail(`Phase(s) must be one of [${PHASES.join(" ")}]`);
  return phases;
}

/** `SplitOptionString`: one stored option per flag group, with a misplaced `--process` lifted out. */
export function splitOptions(input: string): { options: string[]; processes: string[] } {
  if (input.trim() === "") return { options: [], processes: [] };
  let words: string[];
  try {
    words = splitShellWords(input);
  } catch (error) {
    if (error instanceof ShellWordsError) fail(`Unable to parse docker option: ${error.message}`);
    throw error;
  }
  const groups: string[][] = [];
  for (const word of words) {
    const isFlag = word.length > 1 && word.startsWith("-");
    const current = groups[groups.length - 1];
    if (isFlag || !current) groups.push([word]);
    else current.push(word);
  }
  const options: string[] = [];
  const processes: string[] = [];
  for (const group of groups) {
    const head = group[0] ?? "";
    if (head === "--process") {
      if (group.length < 2) fail("--process requires a value");
      if (group.length > 2) fail(`--process accepts a single value, got ${group.length - 1}`);
      processes.push(group[1] ?? "");
    } else if (head.startsWith("--process=")) {
      if (group.length > 1) fail("--process=value cannot be followed by additional tokens");
      processes.push(head.slice("--process=".length));
    } else {
      options.push(joinShellWords(group));
    }
  }
  return { options, processes };
}

function optionsEqual(stored: string, option: string): boolean {
  if (stored === option) return true;
  try {
    const a = splitShellWords(stored);
    const b = splitShellWords(option);
    return a.length === b.length && a.every((word, i) => word === b[i]);
  } catch {
    return false;
  }
}

function validateProcesses(processes: readonly string[], phases: readonly string[]): void {
  if (processes.length === 0) return;
  for (const processType of processes) {
    if (processType === "") fail("--process value must not be empty");
    if (processType === DEFAULT_PROCESS)
      fail(`"${DEFAULT_PROCESS}" is reserved and cannot be used as a --process value`);
  }
  for (const phase of phases) {
    if (phase !== "deploy") fail(`--process is only supported for the deploy phase, got "${phase}"`);
  }
}

export function optionsFor(app: AppState, processType: string, phase: string): string[] {
  return app.dockerOptions[`${processType}.${phase}`] ?? [];
}

function writeOptions(app: AppState, processType: string, phase: string, options: string[]): void {
  const key = `${processType}.${phase}`;
  if (options.length === 0) delete app.dockerOptions[key];
  else app.dockerOptions[key] = options;
}

/** Used by service links (`--link dokku.postgres.x:dokku-postgres-x` on build, deploy and run). */
export function addOption(
  app: AppState,
  processType: string,
  phases: readonly string[],
  option: string,
): void {
  for (const phase of phases)
    writeOptions(app, processType, phase, [...optionsFor(app, processType, phase), option].sort());
}

export function removeOption(
  app: AppState,
  processType: string,
  phases: readonly string[],
  option: string,
): void {
  for (const phase of phases) {
    writeOptions(
      app,
      processType,
      phase,
      optionsFor(app, processType, phase)
        .filter((stored) => !optionsEqual(stored, option))
        .sort(),
    );
  }
}

function change(kind: "add" | "remove") {
  return (ctx: Ctx, args: string[]): void => {
    const parsed = parseFlags(scopedFlags(`docker-options:${kind}`), args);
    const [name = "", phasesArg = "", ...optionParts] = parsed.args;
    const app = verifyAppGo(ctx, name);
    const phases = parsePhases(phasesArg);
    const { options, processes: lifted } = splitOptions(optionParts.join(" "));
    if (options.length === 0) {
      fail(
        kind === "add"
          ? "Please specify docker options to add to the phase"
          : "Please specify docker options to remove from the phase",
      );
    }
    const processes = [...new Set([...parsed.strings("process"), ...lifted])];
    validateProcesses(processes, phases);
    const targets = processes.length === 0 ? [DEFAULT_PROCESS] : processes;
    for (const option of options) {
      for (const processType of targets) {
        if (kind === "add") addOption(app, processType, phases, option);
        else removeOption(app, processType, phases, option);
      }
    }
  };
}

function clear(ctx: Ctx, args: string[]): void {
  const parsed = parseFlags(scopedFlags("docker-options:clear"), args);
  const [name = "", phasesArg = ""] = parsed.args;
  const app = verifyAppGo(ctx, name);
  const processes = parsed.strings("process");
  if (processes.length === 0) {
    if (phasesArg === "") {
      ctx.out.info1(`Clearing docker-options for ${name} on all phases`);
      for (const phase of PHASES) writeOptions(app, DEFAULT_PROCESS, phase, []);
      return;
    }
    for (const phase of parsePhases(phasesArg)) {
      ctx.out.info1(`Clearing docker-options for ${name} on phase ${phase}`);
      writeOptions(app, DEFAULT_PROCESS, phase, []);
    }
    return;
  }
  const phases = phasesArg === "" ? ["deploy"] : parsePhases(phasesArg);
  validateProcesses(processes, phases);
  for (const processType of processes) {
    for (const phase of phases) {
      ctx.out.info1(`Clearing docker-options for ${name} on phase ${phase} for process ${processType}`);
      writeOptions(app, processType, phase, []);
    }
  }
}

function list(ctx: Ctx, args: string[]): void {
  const parsed = parseFlags(
    {
      name: "docker-options:list",
      flags: {
        process: { kind: "string", usage: "process type to query (omit for the default scope)" },
        phase: { kind: "string", usage: "phase to query [build|deploy|run] (required)" },
      },
    },
    args,
  );
  const app = verifyAppGo(ctx, parsed.arg(0));
  const phase = parsed.string("phase");
  if (phase === "") fail("--phase is required");
  if (!PHASES.includes(phase)) fail(`Phase must be one of [${PHASES.join(" ")}]`);
  const processType = parsed.string("process") || DEFAULT_PROCESS;
  for (const option of optionsFor(app, processType, phase)) ctx.out.line(option);
}

function processTypesWithOptions(app: AppState): string[] {
  return [
    ...new Set(
      Object.keys(app.dockerOptions)
        .map((key) => key.slice(0, key.lastIndexOf(".")))
        .filter((processType) => processType !== DEFAULT_PROCESS),
    ),
  ].sort();
}

/** docker-options renders its own JSON: the string report keys plus `<phase>-list` arrays. */
function report(ctx: Ctx, args: string[]): void {
  const reportArgs = parseReportArgs("docker-options", args);
  if (reportArgs.error !== undefined) fail(reportArgs.error);
  const parsed = parseFlags(
    {
      name: "docker-options:report",
      flags: { format: { kind: "string", usage: "format: [ stdout | json ]", default: "stdout" } },
    },
    reportArgs.osArgs,
  );
  const format = parsed.string("format") || "stdout";
  const one = (name: string): void => {
    const app = name === GLOBAL_SCOPE ? undefined : verifyAppGo(ctx, name);
    const values: Record<string, string> = {};
    if (app) {
      for (const phase of PHASES)
        values[`--docker-options-${phase}`] = optionsFor(app, DEFAULT_PROCESS, phase).join(" ");
      for (const processType of processTypesWithOptions(app)) {
        values[`--docker-options-deploy.${processType}`] = optionsFor(app, processType, "deploy").join(" ");
      }
    }
    if (format !== "stdout" && format !== "json") fail(`Format must be "stdout" or "json": "${format}"`);
    if (format === "json" && reportArgs.infoFlag !== "")
      fail("--format flag cannot be specified when specifying an info flag");
    if (format === "json") {
      const data: Record<string, string | string[]> = { ...reportJson("docker-options", values, true) };
      if (app) {
        for (const phase of PHASES) data[`${phase}-list`] = optionsFor(app, DEFAULT_PROCESS, phase);
        for (const processType of processTypesWithOptions(app)) {
          data[`deploy.${processType}-list`] = optionsFor(app, processType, "deploy");
        }
      }
      const sorted: Record<string, string | string[]> = {};
      for (const key of Object.keys(data).sort()) sorted[key] = data[key] ?? "";
      ctx.out.line(goMarshal(sorted));
      return;
    }
    renderReport(ctx, {
      reportType: "docker-options",
      appName: name,
      infoFlag: reportArgs.infoFlag,
      values,
      format,
      emitLegacy: true,
      uppercase: true,
    });
  };
  const target = reportArgs.isGlobal ? GLOBAL_SCOPE : parsed.arg(0);
  if (target !== "") {
    one(target);
    return;
  }
  const apps = sortedAppNames(ctx);
  if (apps.length === 0) ctx.out.warn(NO_APPS_MESSAGE);
  for (const app of apps) one(app);
}

export const plugin: PluginModule = {
  core: true,
  commands: {
    "docker-options:add": change("add"),
    "docker-options:remove": change("remove"),
    "docker-options:clear": clear,
    "docker-options:list": list,
    "docker-options:report": report,
  },
};
