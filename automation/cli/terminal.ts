/**
 * Terminal conventions every CLI of the project follows: colour only where a
 * person reads it. In order: an explicit `--color`/`--no-color` flag,
 * `FORCE_COLOR` (https://force-color.org: set and not `0`/`false` forces it on),
 * `NO_COLOR` (https://no-color.org: set and non-empty turns it off), then
 * whether the stream is a terminal (and `TERM` is not `dumb`). The same order
 * as Node's own util.styleText.
 */
import { UsageError } from "./exitCodes.ts";

export type ColorFlag = "always" | "never" | "auto";

export function colorEnabled(
  stream: { readonly isTTY?: boolean },
  env: NodeJS.ProcessEnv = process.env,
  flag: ColorFlag = "auto",
): boolean {
  if (flag === "always") return true;
  if (flag === "never") return false;
  const force = env.FORCE_COLOR;
  if (force !== undefined) return force !== "0" && force.toLowerCase() !== "false";
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== "") return false;
  return Boolean(stream.isTTY) && env.TERM !== "dumb";
}

/** The colour flag read straight from argv, for messages about arguments that did not parse. */
export function argvColorFlag(argv: readonly string[]): ColorFlag {
  if (argv.includes("--no-color") || argv.includes("--color=never")) return "never";
  return argv.includes("--color=always") ? "always" : "auto";
}

/** `--color=<always|never|auto>` and `--no-color`, as parsed by node:util parseArgs. */
export function colorFlag(values: { readonly color?: string; readonly "no-color"?: boolean }): ColorFlag {
  if (values["no-color"]) return "never";
  const value = values.color ?? "auto";
  if (value !== "always" && value !== "never" && value !== "auto")
    throw new UsageError(`--color must be always, never or auto, got ${value}`);
  return value;
}
