/**
 * `mindroom-ops config check`: every configuration key's effective value and
 * where it came from (env, .env, default, generated, local default), never a
 * secret's value; with MINDROOM_ENVIRONMENT=production, what production
 * refuses. `mindroom-ops config example` prints `.env.example`.
 *
 * Exit codes: 0 fine, 1 production refuses the configuration, 2 usage error.
 */
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { renderTable } from "../automation/cli/render.ts";
import { STANDARD_OPTIONS } from "../automation/cli/standardOptions.ts";
import { isProduction } from "../components/environments.ts";
import { CONFIG_GROUPS, CONFIG_KEYS, type ConfigKey, envExample } from "./configuration.ts";
import type { LoadedDotenv } from "./dotenv.ts";
import { productionProblems } from "./productionCheck.ts";

export const CONFIG_HELP = `Usage: mindroom-ops config check [--json]
       mindroom-ops config example

check    every configuration key: its effective value (secrets never shown) and where it
         came from: env, .env, default, generated (a secret created in the data folder) or
         local default (a stand-in ./platform start runs); with MINDROOM_ENVIRONMENT=production,
         every local default production refuses (exit 1 when there is one)
example  the .env.example text: every key, what it means, what unset means

Exit codes: 0 fine, 1 production refuses the configuration, 2 usage error.`;

export type Source = "env" | ".env" | "default" | "generated" | "local default" | "unset";

export interface ConfigEntry {
  readonly name: string;
  readonly group: string;
  /** What is shown: the value, a masked URL, `(secret, set)`, or what unset means. */
  readonly value: string;
  readonly source: Source;
  readonly secret: boolean;
}

/** A URL's password replaced by `***` (Postgres and SMTP URLs carry one). */
export function maskCredentials(raw: string): string {
  try {
    const url = new URL(raw);
    if (url.password === "") return raw;
    url.password = "***";
    return url.toString();
  } catch {
    return "(set, not a URL)";
  }
}

function shown(key: ConfigKey, value: string): string {
  if (key.secret) return `(secret, set, ${value.length} characters)`;
  if (key.credentialUrl) return maskCredentials(value);
  return value;
}

/** What an unset key amounts to, and its source. */
function unsetEntry(key: ConfigKey, dataDir: string): { value: string; source: Source } {
  const unset = key.unset;
  if (unset.kind === "default") return { value: unset.value, source: "default" };
  if (unset.kind === "local") return { value: unset.what, source: "local default" };
  if (unset.kind === "none") return { value: unset.what, source: "unset" };
  const file = join(dataDir, unset.file);
  return {
    value: existsSync(file) ? `(secret, in ${file})` : `(secret, created in ${file} on first use)`,
    source: "generated",
  };
}

/** The report for `env` as the process sees it after `.env` was loaded (`dotenv` says which names it set). */
export function configReport(
  env: NodeJS.ProcessEnv,
  dotenv: LoadedDotenv,
  cwd = process.cwd(),
): ConfigEntry[] {
  const dataDir = resolve(cwd, env.MINDROOM_DATA_DIR || ".data");
  return CONFIG_KEYS.map((key) => {
    const value = env[key.name];
    const base = { name: key.name, group: key.group, secret: key.secret };
    if (value !== undefined && value.trim() !== "")
      return { ...base, value: shown(key, value), source: dotenv.applied.has(key.name) ? ".env" : "env" };
    return { ...base, ...unsetEntry(key, dataDir) };
  });
}

export async function configMain(argv: string[], dotenv: LoadedDotenv): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { ...STANDARD_OPTIONS },
  });
  const [command = ""] = positionals;
  if (values.help || command === "") {
    process.stdout.write(`${CONFIG_HELP}\n`);
    return command === "" && !values.help ? 2 : 0;
  }
  if (command === "example") {
    process.stdout.write(envExample());
    return 0;
  }
  if (command !== "check") throw new ConfigUsageError(`unknown config command ${command}`);
  const entries = configReport(process.env, dotenv);
  const problems = isProduction(process.env) ? productionProblems(process.env) : [];
  if (values.json) {
    process.stdout.write(`${JSON.stringify({ envFile: dotenv.path ?? null, entries, problems }, null, 2)}\n`);
  } else {
    const blocks = CONFIG_GROUPS.map((group) => {
      const rows = entries.filter((e) => e.group === group).map((e) => [e.name, e.value, e.source]);
      return `${group}\n${renderTable(["NAME", "VALUE", "SOURCE"], rows)}`;
    });
    process.stdout.write(
      `${dotenv.path ? `.env: ${dotenv.path}` : ".env: none"}\n\n${blocks.join("\n\n")}\n${
        problems.length > 0
          ? `\nMINDROOM_ENVIRONMENT=production refuses ${problems.length} of these:\n${problems.map((p) => `  - ${p}`).join("\n")}\n`
          : isProduction(process.env)
            ? "\nMINDROOM_ENVIRONMENT=production: no local defaults.\n"
            : ""
      }`,
    );
  }
  return problems.length > 0 ? 1 : 0;
}

export class ConfigUsageError extends Error {}
