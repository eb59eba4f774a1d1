/**
 * The optional `.env` file: `NAME=value` lines, `#` comments, an optional
 * `export ` prefix, values in single quotes (literal), double quotes (`\n`, `\"`
 * and `\\` escapes) or bare (trailing ` # comment` dropped). No interpolation:
 * what is written is what the platform gets. Variables already in the
 * environment win, so a deployment's secret store overrides a checked-in file.
 */
import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";

export class DotenvError extends Error {
  override readonly name = "DotenvError";
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function parseDotenv(text: string, source = ".env"): Map<string, string> {
  const values = new Map<string, string>();
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) return;
    const body = line.startsWith("export ") ? line.slice(7).trimStart() : line;
    const eq = body.indexOf("=");
    const name = eq > 0 ? body.slice(0, eq).trim() : "";
    // The line number only: the value may be a secret.
    if (!NAME.test(name)) throw new DotenvError(`${source} line ${index + 1} is not NAME=value`);
    const rest = body.slice(eq + 1).trim();
    let value: string;
    if (rest.startsWith("'") || rest.startsWith('"')) {
      const quote = rest[0] as string;
      const end = rest.indexOf(quote, 1);
      let close = end;
      if (quote === '"') {
        close = -1;
        for (let i = 1; i < rest.length; i++) {
          if (rest[i] === "\\") i++;
          else if (rest[i] === '"') {
            close = i;
            break;
          }
        }
      }
      if (close < 0) throw new DotenvError(`${source} line ${index + 1}: ${name}'s quote is not closed`);
      const inner = rest.slice(1, close);
      value = quote === "'" ? inner : inner.replace(/\\([n"\\])/g, (_, c: string) => (c === "n" ? "\n" : c));
    } else {
      value = rest.replace(/\s+#.*$/, "");
    }
    values.set(name, value);
  });
  return values;
}

export interface LoadedDotenv {
  /** The file read, or undefined when there was none. */
  readonly path: string | undefined;
  /** Every name the file sets. */
  readonly names: ReadonlySet<string>;
  /** The names it set in the environment (those the environment did not have already). */
  readonly applied: ReadonlySet<string>;
}

/**
 * Reads `MINDROOM_ENV_FILE` (default `.env` in `cwd`) into `env`, leaving every
 * variable the environment already has; a missing default file is fine, a
 * missing named one is an error.
 */
export function loadDotenv(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): LoadedDotenv {
  const named = env.MINDROOM_ENV_FILE?.trim();
  const path = resolve(cwd, named || ".env");
  if (!existsSync(path)) {
    if (named) throw new DotenvError(`MINDROOM_ENV_FILE names ${path}, which does not exist`);
    return { path: undefined, names: new Set(), applied: new Set() };
  }
  const values = parseDotenv(readFileSync(path, "utf8"), path);
  const applied = new Set<string>();
  for (const [name, value] of values) {
    if (env[name] !== undefined) continue;
    env[name] = value;
    applied.add(name);
  }
  return { path, names: new Set(values.keys()), applied };
}
