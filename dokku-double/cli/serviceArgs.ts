/**
 * `service_parse_args`: the service plugins rewrite long options to short ones
 * and hand them to bash `getopts`, which stops at the first non-option word and
 * only complains on stderr about unknown letters. `-n` takes no value, so
 * `--no-restart false` still disables the restart.
 */
import type { Ctx } from "./context.ts";
import { DOKKU_LIB_ROOT } from "./paths.ts";
import type { ServiceKind } from "./serviceKinds.ts";

export interface ServiceOptions {
  alias?: string;
  configOptions?: string;
  customEnv?: string;
  image?: string;
  imageVersion?: string;
  memory?: string;
  restartApps?: string;
  initialNetwork?: string;
  password?: string;
  postCreateNetwork?: string;
  postStartNetwork?: string;
  querystring?: string;
  rootPassword?: string;
  shmSize?: string;
}

const LONG_TO_SHORT: Record<string, string> = {
  "--alias": "-a",
  "--config-options": "-c",
  "--custom-env": "-C",
  "--database": "-d",
  "--image-version": "-I",
  "--initial-network": "-N",
  "--image": "-i",
  "--memory": "-m",
  "--no-restart": "-n",
  "--password": "-p",
  "--post-create-network": "-P",
  "--post-start-network": "-S",
  "--querystring": "-q",
  "--restart-apps": "-R",
  "--root-password": "-r",
  "--shm-size": "-s",
  "--user": "-u",
};
const WITH_ARGUMENT = new Set("acCdiImNpPqRrsSu");

/**
 * `service_parse_args`: long options rewritten to short ones, then bash
 * `getopts "na:c:C:…"`, which stops at the first non-option word and only
 * complains (on stderr) about unknown letters.
 */
export function parseServiceArgs(
  ctx: Ctx,
  kind: ServiceKind,
  subcommand: string,
  args: readonly string[],
): ServiceOptions {
  const words = args.map((word) => LONG_TO_SHORT[word] ?? word);
  const options: ServiceOptions = {};
  const script = `${DOKKU_LIB_ROOT}/plugins/enabled/${kind.prefix}/subcommands/${subcommand}`;
  const set = (letter: string, value: string): void => {
    switch (letter) {
      case "a":
        options.alias = value.toUpperCase().replace(/_URL$/, "");
        break;
      case "c":
        options.configOptions = value;
        break;
      case "C":
        options.customEnv = value;
        break;
      case "i":
        options.image = value;
        break;
      case "I":
        options.imageVersion = value;
        break;
      case "m":
        options.memory = value;
        break;
      case "n":
        options.restartApps = "false";
        break;
      case "N":
        options.initialNetwork = value;
        break;
      case "p":
        options.password = value;
        break;
      case "P":
        options.postCreateNetwork = value;
        break;
      case "q":
        options.querystring = value.replace(/^\?/, "");
        break;
      case "R":
        options.restartApps = value;
        break;
      case "r":
        options.rootPassword = value;
        break;
      case "s":
        options.shmSize = value;
        break;
      case "S":
        options.postStartNetwork = value;
        break;
    }
  };
  for (let i = 0; i < words.length; i++) {
    const word = words[i] ?? "";
    if (word === "--") break;
    if (!word.startsWith("-") || word === "-") break;
    for (let j = 1; j < word.length; j++) {
      const letter = word[j] ?? "";
      if (!"nacCdiImNpPqRrsSu".includes(letter)) {
        ctx.out.stderrLine(`${script}: illegal option -- ${letter}`);
        continue;
      }
      if (!WITH_ARGUMENT.has(letter)) {
        set(letter, "");
        continue;
      }
      const rest = word.slice(j + 1);
      if (rest !== "") set(letter, rest);
      else if (i + 1 < words.length) set(letter, words[++i] ?? "");
      else ctx.out.stderrLine(`${script}: option requires an argument -- ${letter}`);
      break;
    }
  }
  return options;
}
