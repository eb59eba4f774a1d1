/**
 * How a command ends early. Dokku has exactly three shapes, and the entry point
 * renders each one in one place (`main.ts`):
 * - {@link DokkuFailure}: `dokku_log_fail` / `common.LogFailWithError`, a
 *   ` !     message` line on stderr and an exit code (1, or 20 for a missing app);
 * - {@link SilentExit}: `exit N` with nothing more to say (e.g. `config:get` of a
 *   missing key, or a failed `read` under `set -e`);
 * - {@link UsageExit}: pflag's `ExitOnError`, raw text on stderr and exit 2
 *   (or 0 for `-h`).
 */
export class DokkuFailure extends Error {
  override readonly name = "DokkuFailure";
  readonly exitCode: number;

  constructor(message: string, exitCode = 1) {
    super(message);
    this.exitCode = exitCode;
  }
}

export class SilentExit extends Error {
  override readonly name = "SilentExit";
  readonly exitCode: number;

  constructor(exitCode: number) {
    super(`exit ${exitCode}`);
    this.exitCode = exitCode;
  }
}

export class UsageExit extends Error {
  override readonly name = "UsageExit";
  readonly exitCode: number;
  readonly text: string;

  constructor(text: string, exitCode: number) {
    super(text.split("\n")[0] ?? text);
    this.text = text;
    this.exitCode = exitCode;
  }
}

/** The exit code Dokku uses for a missing app (`common.AppDoesNotExist`, bash `verify_app_name`). */
export const APP_MISSING_EXIT = 20;

export function fail(message: string, exitCode = 1): never {
  throw new DokkuFailure(message, exitCode);
}

export function exitWith(exitCode: number): never {
  throw new SilentExit(exitCode);
}
