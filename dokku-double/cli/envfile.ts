/**
 * The text formats of Dokku's config plugin:
 * - godotenv's `Marshal` (`config:export --format envfile`) and `Parse`
 *   (`config:import`, envfile format);
 * - ryanuber/columnize, which lays out `config:set` / `config:show` lines.
 */

/** godotenv `doubleQuoteEscape`: backslash first, then newline, CR, quote, `!`, `$`, backtick. */
function doubleQuoteEscape(value: string): string {
  return value
    .replaceAll("\\", "\\\\")
    .replaceAll("\n", "\\n")
    .replaceAll("\r", "\\r")
    .replaceAll('"', '\\"')
    .replaceAll("!", "\\!")
    .replaceAll("$", "\\$")
    .replaceAll("`", "\\`");
}

/** `strconv.Atoi` success → the normalised number, else undefined. */
function goAtoi(value: string): string | undefined {
  if (!/^[+-]?\d+$/.test(value)) return undefined;
  const n = BigInt(value);
  if (n > 9223372036854775807n || n < -9223372036854775808n) return undefined;
  return n.toString();
}

/** godotenv `Marshal`: `K="v"` lines (bare integers unquoted and normalised), sorted, no trailing newline. */
export function marshalEnvfile(env: Readonly<Record<string, string>>): string {
  return Object.entries(env)
    .map(([key, value]) => {
      const n = goAtoi(value);
      return n === undefined ? `${key}="${doubleQuoteEscape(value)}"` : `${key}=${n}`;
    })
    .sort()
    .join("\n");
}

export class EnvfileParseError extends Error {
  override readonly name = "EnvfileParseError";
}

const isSpace = (c: string | undefined): boolean =>
  c === " " || c === "\t" || c === "\v" || c === "\f" || c === "\r" || c === "\u0085" || c === "\u00a0";

/**
 * `$NAME` / `${NAME}` expansion from the keys parsed so far. godotenv also falls
 * back to the server process environment; the double has none worth leaking, so
 * unknown names expand to the empty string.
 */
function expandVariables(value: string, vars: Readonly<Record<string, string>>): string {
  return value.replace(
    /(\\)?(\$)(\()?\{?([A-Z0-9_]+)?\}?/g,
    (match: string, escaped?: string, _d?: string, paren?: string, name?: string) => {
      if (escaped === "\\" || paren === "(") return match.slice(1);
      if (name) return vars[name] ?? "";
      return match;
    },
  );
}

function expandEscapes(value: string): string {
  const out = value.replace(/\\./g, (match) => (match === "\\n" ? "\n" : match === "\\r" ? "\r" : match));
  return out.replace(/\\([^$])/g, "$1");
}

/** godotenv `Parse` (v1.5): `KEY=value`, `export KEY=value`, `KEY: value`, quotes, comments. */
export function parseEnvfile(text: string): Record<string, string> {
  const vars: Record<string, string> = {};
  let src = text.replaceAll("\r\n", "\n");
  for (;;) {
    // Skip blank lines and comment lines.
    src = src.replace(/^[\s]+/, "");
    while (src.startsWith("#")) {
      const eol = src.indexOf("\n");
      src = eol === -1 ? "" : src.slice(eol + 1).replace(/^[\s]+/, "");
    }
    if (src === "") return vars;

    if (src.startsWith("export") && isSpace(src[6])) src = src.slice(6).replace(/^[ \t]+/, "");
    let key: string | undefined;
    let offset = 0;
    for (let i = 0; i < src.length; i++) {
      const c = src[i] ?? "";
      if (isSpace(c)) continue;
      if (c === "=" || c === ":") {
        key = src.slice(0, i);
        offset = i + 1;
        break;
      }
      if (c === "_" || c === "." || /[\p{L}\p{N}]/u.test(c)) continue;
      throw new EnvfileParseError(
        `unexpected character ${JSON.stringify(c)} in variable name near ${JSON.stringify(src)}`,
      );
    }
    if (key === undefined)
      throw new EnvfileParseError(`unexpected character "\\n" in variable name near ${JSON.stringify(src)}`);
    key = key.replace(/\s+$/, "");
    src = src.slice(offset).replace(/^[ \t]+/, "");

    const quote = src[0];
    if (quote === '"' || quote === "'") {
      let end = -1;
      for (let i = 1; i < src.length; i++) {
        if (src[i] === quote && src[i - 1] !== "\\") {
          end = i;
          break;
        }
      }
      if (end === -1) {
        const eol = src.indexOf("\n");
        throw new EnvfileParseError(`unterminated quoted value ${eol === -1 ? src : src.slice(0, eol)}`);
      }
      let value = src.slice(1, end);
      if (quote === '"') value = expandVariables(expandEscapes(value), vars);
      vars[key] = value;
      src = src.slice(end + 1);
      const eol = src.indexOf("\n");
      src = eol === -1 ? "" : src.slice(eol + 1);
      continue;
    }

    const eol = src.indexOf("\n");
    const line = eol === -1 ? src : src.slice(0, eol);
    let endOfVar = line.length;
    for (let i = line.length - 1; i > 0; i--) {
      if (line[i] === "#" && isSpace(line[i - 1])) {
        endOfVar = i;
        break;
      }
    }
    vars[key] = expandVariables(line.slice(0, endOfVar).trim(), vars);
    src = eol === -1 ? "" : src.slice(eol + 1);
  }
}

/**
 * ryanuber/columnize `Format` with a given delimiter and prefix: cells are
 * trimmed, every column but the last is padded to its widest cell and glued
 * with two spaces.
 */
export function columnize(lines: readonly string[], delimiter: string, prefix = ""): string {
  const rows = lines.map((line) => line.split(delimiter).map((cell) => cell.trim()));
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? 0, Buffer.byteLength(cell));
    });
  }
  const pad = (cell: string, i: number): string =>
    `${cell}${" ".repeat((widths[i] ?? 0) - Buffer.byteLength(cell))}  `;
  return rows
    .map((row) => prefix + row.map((cell, i) => (i === row.length - 1 ? cell : pad(cell, i))).join(""))
    .join("\n");
}

/** `prettyPrintEnvEntries`: `KEY:  value` columns, keys sorted. */
export function prettyEnv(prefix: string, env: Readonly<Record<string, string>>): string {
  const keys = Object.keys(env).sort();
  return columnize(
    keys.map((key) => `${key}:\u0000${env[key] ?? ""}`),
    "\u0000",
    prefix,
  );
}

/** `singleQuoteEscape` + `'…'`, the `exports` / `shell` export formats. */
export function singleQuoted(value: string): string {
  return `'${value.replaceAll("'", "'\\''")}'`;
}
