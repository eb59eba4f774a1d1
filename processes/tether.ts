/**
 * The command line that runs a program through `tether` (toolchain/tether):
 * the program dies with this process whatever kills it, and so does everything
 * the program starts.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { toolsDir } from "../toolchain/tools.ts";

/** toolchain/ensure.sh has not built tether into the tools folder. */
export class TetherMissingError extends Error {
  override readonly name = "TetherMissingError";
}

export function tetherPath(): string {
  const path = join(toolsDir(), "bin", "tether");
  if (!existsSync(path))
    throw new TetherMissingError(
      `${path} is missing: run toolchain/ensure.sh (./platform setup) to build it`,
    );
  return path;
}

export interface TetherOptions {
  /** What the program gets when this process dies (default SIGTERM). */
  readonly signal?: "SIGTERM" | "SIGINT" | "SIGHUP" | "SIGQUIT" | "SIGKILL";
  /** How long it then has before its whole tree gets SIGKILL (default 10 s). */
  readonly graceMs?: number;
}

/** `[file, args]` for spawn(): `command args…` tethered to this process. */
export function tethered(
  command: string,
  args: readonly string[],
  options: TetherOptions = {},
): [string, string[]] {
  return [
    tetherPath(),
    [
      "--parent",
      String(process.pid),
      "--signal",
      (options.signal ?? "SIGTERM").slice(3),
      "--grace",
      `${options.graceMs ?? 10_000}ms`,
      "--",
      command,
      ...args,
    ],
  ];
}
