/**
 * Builds the text of one Dokku invocation sent over SSH.
 *
 * The string passes through two parsers on a real host (see
 * shared/reference/dokku-cli.md §1.2): for `dokku@host`, sshd's login shell splits
 * `$SSH_ORIGINAL_COMMAND` on whitespace, then Dokku re-parses non-`git*` commands
 * with `xargs -n 1` (POSIX quotes honoured, `-n`/`-e` swallowed by `echo`, a
 * newline aborts mid-command) and splits `git*` commands on whitespace with no
 * quote processing at all; for a shell user (`root@host dokku …`) a real shell
 * parses it. POSIX single-quoting every argument is correct for both, once the
 * arguments no parser can carry are refused here, before anything runs.
 */

/** Why an argument cannot be sent to Dokku, with what to do instead. */
export class DokkuArgumentError extends Error {
  override readonly name = "DokkuArgumentError";
  readonly argument: string;
  constructor(argument: string, reason: string) {
    super(`cannot pass ${JSON.stringify(argument)} to dokku: ${reason}`);
    this.argument = argument;
  }
}

/** Characters that need no quoting in either parser. */
const SAFE = /^[A-Za-z0-9_@%+=:,./-]+$/;
/** Arguments `/bin/echo` (xargs' default command) treats as its own options. */
const ECHO_OPTION = /^-[neE]+$|^--help$|^--version$/;
/**
 * An argument that is a shell variable set earlier in the same script (a secret
 * read from stdin): expanded by the host's shell, never part of the text sent.
 */
export interface ShellVariable {
  readonly shellVariable: string;
}
export type DokkuArg = string | ShellVariable;

/** Dokku's global flags, valid only before the command word. */
export type GlobalFlag = "--quiet" | "--force" | "--trace";

/** True for the commands Dokku's SSH entry splits without quote processing. */
export function isGitCommand(command: string): boolean {
  // Dokku matches `git-*`/`git:*` as unanchored regexes, i.e. any first word containing "git".
  return command.includes("git");
}

/** Refuses an argument that some parser on the way would mangle or cut. */
export function checkArgument(arg: string, gitCommand: boolean): void {
  if (/[\n\r\t\0]/.test(arg)) {
    throw new DokkuArgumentError(
      arg,
      "control characters (newline, tab, NUL) abort or split Dokku's parsing",
    );
  }
  if (ECHO_OPTION.test(arg)) {
    throw new DokkuArgumentError(arg, "Dokku's SSH entry passes arguments through echo, which swallows it");
  }
  if (gitCommand && !SAFE.test(arg)) {
    throw new DokkuArgumentError(
      arg,
      "git:* commands are split on whitespace without quote processing; use only [A-Za-z0-9_@%+=:,./-]",
    );
  }
}

/** POSIX single-quoting: `it's` → `'it'\''s'`; safe words stay bare. */
export function quote(arg: string): string {
  if (SAFE.test(arg)) return arg;
  return `'${arg.replaceAll("'", `'\\''`)}'`;
}

/**
 * The command text for one Dokku invocation: global flags, the command word
 * (never quoted: a quoted `'git:from-image'` is not a Dokku command), then the
 * quoted arguments.
 */
export function dokkuCommandLine(
  command: string,
  args: readonly DokkuArg[],
  flags: readonly GlobalFlag[] = [],
): string {
  if (!/^[a-z][a-z0-9-]*(:[a-z0-9-]+)*$/.test(command)) {
    throw new DokkuArgumentError(command, "not a Dokku command word");
  }
  const git = isGitCommand(command);
  const words = args.map((arg) => {
    if (typeof arg !== "string") {
      if (git || !/^[A-Z_][A-Z0-9_]*$/.test(arg.shellVariable)) {
        throw new DokkuArgumentError(
          arg.shellVariable,
          "shell variables only work as plain arguments of non-git commands",
        );
      }
      return `"$${arg.shellVariable}"`;
    }
    checkArgument(arg, git);
    return quote(arg);
  });
  return [...flags, command, ...words].join(" ");
}

/** Standard base64 for `config:set --encoded`, which Dokku decodes with StdEncoding. */
export function encodeConfigValue(value: string): string {
  return Buffer.from(value, "utf8").toString("base64");
}
