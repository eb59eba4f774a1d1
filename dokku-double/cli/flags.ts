/**
 * A small imitation of spf13/pflag with `ExitOnError`, which every Go plugin
 * subcommand uses. What clients can observe, and what this reproduces:
 * - flags may appear anywhere (unless interspersing is off), `--` ends them;
 * - `--name value` and `--name=value`; a string flag takes the next word even if
 *   it starts with `-`; a bool takes no value unless written `--name=false`;
 * - an unknown flag prints `unknown flag: --x` plus the usage and exits 2
 *   (this is how a global flag written after the command word fails);
 * - `-h` / `--help` print the usage and exit 0.
 */
import { UsageExit } from "./errors.ts";

type FlagKind = "bool" | "string" | "int" | "strings";

export interface FlagSpec {
  kind: FlagKind;
  usage: string;
  default?: string;
  short?: string;
}

export interface FlagSetSpec {
  /** The name pflag prints in `Usage of <name>:`, e.g. `apps:list`. */
  name: string;
  flags: Record<string, FlagSpec>;
  /** `SetInterspersed(false)`: flags only before the first positional word. */
  interspersed?: boolean;
}

export interface ParsedFlags {
  args: string[];
  arg(index: number): string;
  bool(name: string): boolean;
  string(name: string): string;
  int(name: string): number;
  strings(name: string): string[];
  changed(name: string): boolean;
}

const TYPE_NAMES: Record<FlagKind, string> = { bool: "", string: "string", int: "int", strings: "strings" };
const ZERO_DEFAULTS: Record<FlagKind, string> = { bool: "false", string: "", int: "0", strings: "[]" };

function defaultOf(spec: FlagSpec): string {
  return spec.default ?? ZERO_DEFAULTS[spec.kind];
}

/** pflag's `FlagUsages`, so usage text matches what Dokku prints (its width counts a separator byte, hence the +1). */
export function flagUsages(set: FlagSetSpec): string {
  const entries = Object.entries(set.flags).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  let maxlen = 0;
  const lines = entries.map(([name, spec]) => {
    let line = spec.short ? `  -${spec.short}, --${name}` : `      --${name}`;
    const typeName = TYPE_NAMES[spec.kind];
    if (typeName !== "") line += ` ${typeName}`;
    const sidx = line.length;
    if (sidx > maxlen) maxlen = sidx;
    let usage = spec.usage;
    const def = defaultOf(spec);
    if (def !== ZERO_DEFAULTS[spec.kind])
      usage += spec.kind === "string" ? ` (default "${def}")` : ` (default ${def})`;
    return { head: line, usage };
  });
  return lines
    .map(({ head, usage }) => `${head} ${" ".repeat(maxlen - head.length + 1)} ${usage}\n`)
    .join("");
}

function usageText(set: FlagSetSpec): string {
  return `Usage of ${set.name}:\n${flagUsages(set)}`;
}

function failUsage(set: FlagSetSpec, message: string): never {
  throw new UsageExit(`${message}\n${usageText(set)}`, 2);
}

function parseBool(value: string): boolean | undefined {
  if (["1", "t", "T", "TRUE", "true", "True"].includes(value)) return true;
  if (["0", "f", "F", "FALSE", "false", "False"].includes(value)) return false;
  return undefined;
}

export function parseFlags(set: FlagSetSpec, argv: readonly string[]): ParsedFlags {
  const values = new Map<string, string | string[]>();
  const changed = new Set<string>();
  const positional: string[] = [];
  const byShort = new Map(
    Object.entries(set.flags)
      .filter(([, spec]) => spec.short)
      .map(([name, spec]) => [spec.short ?? "", name]),
  );

  const assign = (name: string, spec: FlagSpec, raw: string, shown: string): void => {
    if (spec.kind === "bool" && parseBool(raw) === undefined) {
      failUsage(
        set,
        `invalid argument "${raw}" for "${shown}" flag: strconv.ParseBool: parsing "${raw}": invalid syntax`,
      );
    }
    if (spec.kind === "int" && !/^[+-]?\d+$/.test(raw)) {
      failUsage(
        set,
        `invalid argument "${raw}" for "${shown}" flag: strconv.ParseInt: parsing "${raw}": invalid syntax`,
      );
    }
    if (spec.kind === "strings") {
      const previous = changed.has(name) ? (values.get(name) as string[]) : [];
      values.set(name, [...previous, ...(raw === "" ? [] : raw.split(","))]);
    } else {
      values.set(name, raw);
    }
    changed.add(name);
  };

  const rest = [...argv];
  while (rest.length > 0) {
    const word = rest.shift() ?? "";
    if (word.length < 2 || !word.startsWith("-")) {
      positional.push(word);
      if (set.interspersed === false) {
        positional.push(...rest);
        break;
      }
      continue;
    }
    if (word === "--") {
      positional.push(...rest);
      break;
    }
    if (word.startsWith("--")) {
      const body = word.slice(2);
      if (body === "" || body.startsWith("-") || body.startsWith("="))
        failUsage(set, `bad flag syntax: ${word}`);
      const eq = body.indexOf("=");
      const name = eq === -1 ? body : body.slice(0, eq);
      const spec = set.flags[name];
      if (!spec) {
        if (name === "help") throw new UsageExit(usageText(set), 0);
        failUsage(set, `unknown flag: --${name}`);
      }
      if (eq !== -1) assign(name, spec, body.slice(eq + 1), `--${name}`);
      else if (spec.kind === "bool") assign(name, spec, "true", `--${name}`);
      else if (rest.length > 0) assign(name, spec, rest.shift() ?? "", `--${name}`);
      else failUsage(set, `flag needs an argument: ${word}`);
      continue;
    }
    // Shorthand cluster, e.g. -ab or -avalue.
    const shorthands = word.slice(1);
    for (let i = 0; i < shorthands.length; i++) {
      const c = shorthands[i] ?? "";
      const name = byShort.get(c);
      const spec = name === undefined ? undefined : set.flags[name];
      if (name === undefined || !spec) {
        if (c === "h") throw new UsageExit(usageText(set), 0);
        failUsage(set, `unknown shorthand flag: '${c}' in ${word}`);
      }
      const tail = shorthands.slice(i + 1);
      if (tail.startsWith("=")) {
        assign(name, spec, tail.slice(1), `-${c}`);
        break;
      }
      if (spec.kind === "bool") {
        assign(name, spec, "true", `-${c}`);
        continue;
      }
      if (tail !== "") assign(name, spec, tail, `-${c}`);
      else if (rest.length > 0) assign(name, spec, rest.shift() ?? "", `-${c}`);
      else failUsage(set, `flag needs an argument: '${c}' in ${word}`);
      break;
    }
  }

  const lookup = (name: string): string | string[] => {
    const spec = set.flags[name];
    if (!spec) throw new Error(`flag --${name} is not declared for ${set.name}`);
    return values.get(name) ?? (spec.kind === "strings" ? [] : defaultOf(spec));
  };
  return {
    args: positional,
    arg: (index) => positional[index] ?? "",
    bool: (name) => lookup(name) === "true" || parseBool(String(lookup(name))) === true,
    string: (name) => String(lookup(name)),
    int: (name) => Number.parseInt(String(lookup(name)), 10),
    strings: (name) => {
      const value = lookup(name);
      return Array.isArray(value) ? value : [];
    },
    changed: (name) => changed.has(name),
  };
}
