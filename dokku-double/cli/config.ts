/**
 * The config plugin (Go). `config:set` prints every value it sets (use `--quiet`
 * for secrets) and restarts a deployed app unless `--no-restart`; `config:get`
 * of a missing key exits 1 silently; `config:unset` of a missing key succeeds.
 */
import { Base64Error, goBase64Decode } from "./base64.ts";
import type { PluginModule } from "./commands.ts";
import { clearConfigVars, envOf, keyProblem, setConfigVars, unsetConfigVars } from "./configVars.ts";
import type { Ctx } from "./context.ts";
import { EnvfileParseError, marshalEnvfile, parseEnvfile, prettyEnv, singleQuoted } from "./envfile.ts";
import { exitWith, fail } from "./errors.ts";
import { type FlagSpec, type ParsedFlags, parseFlags } from "./flags.ts";
import { goMarshal, sortedRecord } from "./goJson.ts";
import { verifyAppGo } from "./names.ts";

const GLOBAL_FLAG: FlagSpec = { kind: "bool", usage: "--global: use the global environment" };
const NO_RESTART_FLAG: FlagSpec = { kind: "bool", usage: "--no-restart: no restart" };
const MERGED_FLAG: FlagSpec = {
  kind: "bool",
  usage: "--merged: merge app environment and global environment",
};

/** `getAppNameOrGlobal` plus the positional split every config subcommand does. */
function target(ctx: Ctx, parsed: ParsedFlags): { scope: string; rest: string[] } {
  if (parsed.bool("global")) return { scope: "", rest: parsed.args };
  const scope = parsed.arg(0);
  verifyAppGo(ctx, scope);
  return { scope, rest: parsed.args.slice(1) };
}

function environment(ctx: Ctx, scope: string, merged: boolean): Record<string, string> {
  if (scope !== "" && merged) return { ...ctx.state.globalEnv, ...envOf(ctx, scope) };
  return { ...envOf(ctx, scope) };
}

function set(ctx: Ctx, args: string[]): void {
  const parsed = parseFlags(
    {
      name: "config:set",
      flags: {
        global: GLOBAL_FLAG,
        encoded: { kind: "bool", usage: "--encoded: interpret VALUEs as base64" },
        "no-restart": NO_RESTART_FLAG,
      },
    },
    args,
  );
  const { scope, rest: pairs } = target(ctx, parsed);
  if (pairs.length === 0) fail("At least one env pair must be given");
  const updated: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf("=");
    if (eq === -1) fail(`Invalid env pair: ${pair}`);
    const key = pair.slice(0, eq);
    let value = pair.slice(eq + 1);
    if (parsed.bool("encoded")) {
      try {
        value = goBase64Decode(value).toString("utf8");
      } catch (error) {
        if (error instanceof Base64Error) fail(`${error.message} for key '${key}'`);
        throw error;
      }
    }
    updated[key] = value;
  }
  setConfigVars(ctx, scope, updated, { restart: !parsed.bool("no-restart") });
}

function unset(ctx: Ctx, args: string[]): void {
  const parsed = parseFlags(
    { name: "config:unset", flags: { global: GLOBAL_FLAG, "no-restart": NO_RESTART_FLAG } },
    args,
  );
  const { scope, rest: keys } = target(ctx, parsed);
  if (keys.length === 0) fail("At least one key must be given");
  unsetConfigVars(ctx, scope, keys, { restart: !parsed.bool("no-restart") });
}

function get(ctx: Ctx, args: string[]): void {
  const parsed = parseFlags(
    {
      name: "config:get",
      flags: { global: GLOBAL_FLAG, quoted: { kind: "bool", usage: "--quoted: get the value quoted" } },
    },
    args,
  );
  const { scope, rest: keys } = target(ctx, parsed);
  if (keys.length === 0) fail("Expected: key");
  if (keys.length !== 1) fail(`Unexpected argument(s): [${keys.slice(1).join(" ")}]`);
  const key = keys[0] ?? "";
  const env = envOf(ctx, scope);
  if (keyProblem(key) !== undefined || !Object.hasOwn(env, key)) exitWith(1);
  const value = env[key] ?? "";
  ctx.out.line(parsed.bool("quoted") ? singleQuoted(value) : value);
}

/** Every `config:export` format, with Dokku's trailing newline (a space for `shell`). */
export function exportEnv(env: Readonly<Record<string, string>>, format: string): string | undefined {
  const keys = Object.keys(env).sort();
  const pairs = (prefix: string, separator: string): string =>
    keys.map((key) => `${prefix}${key}=${singleQuoted(env[key] ?? "")}`).join(separator);
  switch (format) {
    case "exports":
      return `${pairs("export ", "\n")}\n`;
    case "envfile":
      return `${marshalEnvfile(env)}\n`;
    case "docker-args":
      return `${pairs("--env=", " ")}\n`;
    case "docker-args-keys":
      return `${keys.map((key) => `--env=${key}`).join(" ")}\n`;
    case "shell":
      return `${pairs("", " ")} `;
    case "pretty":
      return `${prettyEnv("", env)}\n`;
    case "json":
      return `${goMarshal(sortedRecord(env))}\n`;
    case "json-list":
      return `${keys.length === 0 ? "null" : goMarshal(keys.map((key) => ({ name: key, value: env[key] ?? "" })))}\n`;
    case "pack-keys":
      return `${keys.map((key) => `--env ${key}`).join(" ")}\n`;
    default:
      return undefined;
  }
}

function exportCommand(ctx: Ctx, args: string[]): void {
  const parsed = parseFlags(
    {
      name: "config:export",
      flags: {
        global: GLOBAL_FLAG,
        merged: MERGED_FLAG,
        format: {
          kind: "string",
          usage:
            "--format: [ docker-args | docker-args-keys | exports | envfile | json | json-list | pack-keys | pretty | shell ] which format to export as)",
          default: "exports",
        },
      },
    },
    args,
  );
  const { scope } = target(ctx, parsed);
  const format = parsed.string("format");
  const text = exportEnv(environment(ctx, scope, parsed.bool("merged")), format);
  if (text === undefined) fail(`Unknown export format: ${format}`);
  ctx.out.write("stdout", text);
}

/** `json.NewDecoder(os.Stdin).Decode(&map[string]string{})`, with Go's error texts for the common cases. */
function decodeJsonEnv(text: string): Record<string, string> {
  if (text.trim() === "") fail("EOF");
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    fail("invalid character in JSON input");
  }
  const goType = (v: unknown): string =>
    v === null ? "null" : Array.isArray(v) ? "array" : typeof v === "object" ? "object" : typeof v;
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    fail(`json: cannot unmarshal ${goType(value)} into Go value of type map[string]string`);
  }
  const env: Record<string, string> = {};
  for (const [key, v] of Object.entries(value)) {
    if (typeof v !== "string") fail(`json: cannot unmarshal ${goType(v)} into Go value of type string`);
    env[key] = v;
  }
  return env;
}

function importCommand(ctx: Ctx, args: string[]): void {
  const parsed = parseFlags(
    {
      name: "config:import",
      flags: {
        global: GLOBAL_FLAG,
        "no-restart": NO_RESTART_FLAG,
        replace: { kind: "bool", usage: "--replace: replace existing config vars" },
        format: {
          kind: "string",
          usage: "--format: [ envfile | json ] which format to export as)",
          default: "envfile",
        },
      },
    },
    args,
  );
  const { scope, rest } = target(ctx, parsed);
  const filename = rest[0] ?? "";
  if (filename === "-") ctx.out.info1Quiet("Reading config vars from stdin");
  const format = parsed.string("format") || "envfile";
  let env: Record<string, string>;
  if (format === "envfile") {
    // Only stdin is readable: the double has no server-side files, so a path behaves as a missing file.
    try {
      env = filename === "-" ? parseEnvfile(ctx.stdin.readAll().toString("utf8")) : {};
    } catch (error) {
      if (error instanceof EnvfileParseError) fail(error.message);
      throw error;
    }
    for (const key of Object.keys(env)) {
      if (keyProblem(key) !== undefined) {
        ctx.out.info1(`Deleting invalid key ${key} from config for ${scope}`);
        delete env[key];
      }
    }
  } else if (format === "json") {
    if (filename !== "-") fail(`open ${filename}: no such file or directory`);
    env = decodeJsonEnv(ctx.stdin.readAll().toString("utf8"));
  } else {
    fail(`Unknown format: ${format}`);
  }
  if (Object.keys(env).length === 0) fail("No config vars to set");
  for (const key of Object.keys(env).sort())
    ctx.out.info1Quiet(`Setting config var ${key}=${env[key] ?? ""}`);
  setConfigVars(ctx, scope, env, { restart: !parsed.bool("no-restart"), replace: parsed.bool("replace") });
}

function keys(ctx: Ctx, args: string[]): void {
  const parsed = parseFlags(
    { name: "config:keys", flags: { global: GLOBAL_FLAG, merged: MERGED_FLAG } },
    args,
  );
  const { scope } = target(ctx, parsed);
  for (const key of Object.keys(environment(ctx, scope, parsed.bool("merged"))).sort()) ctx.out.line(key);
}

function show(ctx: Ctx, args: string[], name = "config:show"): void {
  const parsed = parseFlags({ name, flags: { global: GLOBAL_FLAG, merged: MERGED_FLAG } }, args);
  const { scope } = target(ctx, parsed);
  ctx.out.info2Quiet(`${scope === "" ? "global" : scope} env vars`);
  ctx.out.line(prettyEnv("", environment(ctx, scope, parsed.bool("merged"))));
}

function clear(ctx: Ctx, args: string[]): void {
  const parsed = parseFlags(
    { name: "config:clear", flags: { global: GLOBAL_FLAG, "no-restart": NO_RESTART_FLAG } },
    args,
  );
  const { scope } = target(ctx, parsed);
  clearConfigVars(ctx, scope, { restart: !parsed.bool("no-restart") });
}

export const plugin: PluginModule = {
  core: true,
  commands: {
    config: (ctx, args) => show(ctx, args, "config"),
    "config:set": set,
    "config:unset": unset,
    "config:get": get,
    "config:export": exportCommand,
    "config:import": importCommand,
    "config:keys": keys,
    "config:show": show,
    "config:clear": clear,
  },
};
