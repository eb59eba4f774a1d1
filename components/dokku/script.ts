/**
 * Small POSIX shell scripts of Dokku invocations, run by the host's login shell
 * over one SSH session. Dokku's own creates are not idempotent (a second
 * `apps:create` fails), so every create here probes first and acts only when the
 * thing is missing, and every delete tolerates absence: a re-run after a failure
 * at any point converges (shared/reference/dokku-cli.md §5).
 */
import { type DokkuArg, dokkuCommandLine, type GlobalFlag } from "./commandLine.ts";

/** How the host's shell invokes Dokku: `dokku` as root, `sudo -n dokku` for a sudo-capable user. */
export type DokkuBinary = "dokku" | "sudo -n dokku";

export function dokkuBinary(user: string): DokkuBinary {
  return user === "root" ? "dokku" : "sudo -n dokku";
}

export class DokkuScript {
  private readonly lines: string[] = [];
  private readonly bin: DokkuBinary;

  constructor(bin: DokkuBinary) {
    this.bin = bin;
  }

  /**
   * One Dokku invocation. Arguments may be variables set by {@link readStdin}.
   * `discardStdout` keeps a command's echo (config:import prints the values it
   * sets) from ever reaching Pulumi's logs or state.
   */
  run(
    command: string,
    args: readonly DokkuArg[],
    flags: readonly GlobalFlag[] = [],
    options: { discardStdout?: boolean } = {},
  ): this {
    this.lines.push(`${this.line(command, args, flags)}${options.discardStdout ? " >/dev/null" : ""}`);
    return this;
  }

  /** Runs `act` unless `probe` succeeds (probe output is discarded). */
  ensure(probe: [string, readonly string[]], act: [string, readonly DokkuArg[], GlobalFlag[]?]): this {
    this.lines.push(`${this.quietProbe(probe)} || ${this.line(act[0], act[1], act[2] ?? [])}`);
    return this;
  }

  /** Runs `act` only if `probe` succeeds: deletes that tolerate absence. */
  ifPresent(probe: [string, readonly string[]], act: [string, readonly string[], GlobalFlag[]?]): this {
    this.lines.push(`if ${this.quietProbe(probe)}; then ${this.line(act[0], act[1], act[2] ?? [])}; fi`);
    return this;
  }

  /**
   * Runs `act` unless the report value `report` (one `--<flag>` of a `:report`)
   * already equals `expected`: for commands that are not idempotent, like
   * `git:from-image`, which fails when given the image already deployed.
   */
  unlessReport(
    report: [string, readonly string[]],
    expected: string,
    act: [string, readonly string[]],
  ): this {
    this.lines.push(
      `[ ${this.reportValue(report)} = ${quoteShell(expected)} ] || ${this.line(act[0], act[1], [])}`,
    );
    return this;
  }

  /** Runs `act` only if the report value `report` equals `expected` (a missing app reports nothing). */
  ifReport(report: [string, readonly string[]], expected: string, act: [string, readonly string[]]): this {
    this.lines.push(
      `if [ ${this.reportValue(report)} = ${quoteShell(expected)} ]; then ${this.line(act[0], act[1], [])}; fi`,
    );
    return this;
  }

  /** Fails the script with `message` on stderr unless `probe` succeeds: a verification step. */
  require(probe: [string, readonly string[]], message: string): this {
    this.lines.push(`${this.quietProbe(probe)} || { echo ${quoteShell(message)} >&2; exit 1; }`);
    return this;
  }

  /** Fails the script with `message` unless the (quiet) output of `command` contains `text`. */
  requireOutput(command: [string, readonly string[]], text: string, message: string): this {
    this.lines.push(
      `case ${this.reportValue(command)} in *${quoteShell(text)}*) ;; *) echo ${quoteShell(message)} >&2; exit 1 ;; esac`,
    );
    return this;
  }

  /** Prints `text` (a script's last word, e.g. what it verified). */
  echo(text: string): this {
    this.lines.push(`echo ${quoteShell(text)}`);
    return this;
  }

  /** Reads secret values from stdin into shell variables, so they never appear in the script text. */
  readStdin(...variables: string[]): this {
    for (const v of variables) {
      if (!/^[A-Z_][A-Z0-9_]*$/.test(v)) throw new Error(`not a shell variable name: ${v}`);
      this.lines.push(`IFS= read -r ${v}`);
    }
    return this;
  }

  /**
   * Writes files into a folder of a Dokku service's root (what
   * `<kind>:info <service> --service-root` reports), readable only by the dokku
   * user (0600 in a 0700 folder): how secrets reach a plugin that keeps them in
   * files, without any command line ever carrying them. Values are literals or
   * variables set by {@link readStdin}; `printf` is a shell builtin, so a value
   * never becomes a process argument, and the writer process sees only the path.
   */
  writeServiceFiles(
    kind: string,
    service: string,
    folder: string,
    files: readonly (readonly [name: string, value: DokkuArg])[],
  ): this {
    const sudo = this.bin === "dokku" ? "" : "sudo -n ";
    for (const name of [folder, ...files.map(([n]) => n)])
      if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(name)) throw new Error(`not a plain file name: ${name}`);
    this.lines.push(
      `SERVICE_FILES="$(${this.line(`${kind}:info`, [service, "--service-root"], [])})/${folder}"`,
      `${sudo}install -d -o dokku -g dokku -m 0700 "$SERVICE_FILES"`,
    );
    for (const [name, value] of files) {
      const text = typeof value === "string" ? quoteShell(value) : `"$${value.shellVariable}"`;
      if (typeof value !== "string" && !/^[A-Z_][A-Z0-9_]*$/.test(value.shellVariable))
        throw new Error(`not a shell variable name: ${value.shellVariable}`);
      this.lines.push(
        `printf '%s\\n' ${text} | ${sudo}sh -c 'umask 077 && cat >"$1" && chown dokku:dokku "$1"' sh "$SERVICE_FILES/${name}"`,
      );
    }
    return this;
  }

  toString(): string {
    return ["set -e", ...this.lines].join("\n");
  }

  private line(command: string, args: readonly DokkuArg[], flags: readonly GlobalFlag[]): string {
    return `${this.bin} ${dokkuCommandLine(command, args, flags)}`;
  }

  /** The raw value of one report flag, empty when the report fails (e.g. a missing app). */
  private reportValue([command, args]: [string, readonly string[]]): string {
    return `"$(${this.line(command, args, ["--quiet"])} 2>/dev/null)"`;
  }

  private quietProbe([command, args]: [string, readonly string[]]): string {
    return `${this.line(command, args, ["--quiet"])} >/dev/null 2>&1`;
  }
}

/** POSIX single-quoting for values used in the script itself. */
export function quoteShell(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}
