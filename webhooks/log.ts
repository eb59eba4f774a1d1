/**
 * Structured logs: one JSON object per line (`time`, `level`, `msg`, then fields), with secrets
 * redacted on the way out, whatever a caller passes. Redaction works on two levels: fields whose
 * name says "secret" (headers, keys, passwords, signatures, cookies, tokens) are replaced
 * wholesale, and string values that look like Stripe keys, webhook secrets or URLs with a
 * password are masked wherever they appear, so an error message quoting one is safe too.
 */
import type { Writable } from "node:stream";

export const LOG_LEVELS = ["debug", "info", "warn", "error"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export type LogFields = Readonly<Record<string, unknown>>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A logger that adds `fields` to every line. */
  child(fields: LogFields): Logger;
}

export const REDACTED = "[redacted]";

/** Field names whose values are never written. */
const SECRET_FIELD =
  /secret|passw(or)?d|passphrase|token|authorization|cookie|signature|api[-_]?key|private[-_]?key|^headers$|^body$|^payload$|^raw/i;

/** Values that are secrets whatever field holds them. */
const SECRET_VALUES: readonly [RegExp, string][] = [
  [/\bwhsec_[A-Za-z0-9+/=_-]+/g, `whsec_${REDACTED}`],
  [/\b(sk|rk|pk)_(live|test)_[A-Za-z0-9_]+/g, `$1_$2_${REDACTED}`],
  // scheme://user:password@host → scheme://user:[redacted]@host
  [/\b([a-z][a-z0-9+.-]*:\/\/[^:/@\s]+):[^@\s]+@/gi, `$1:${REDACTED}@`],
  [/\bBearer\s+[A-Za-z0-9._~+/=-]+/g, `Bearer ${REDACTED}`],
];

export function redactString(value: string): string {
  let out = value;
  for (const [pattern, replacement] of SECRET_VALUES) out = out.replace(pattern, replacement);
  return out;
}

/** A JSON-safe copy of `value` with secrets removed (depth-limited, cycle-safe). */
export function redact(value: unknown, depth = 0, seen = new WeakSet<object>()): unknown {
  if (typeof value === "string") return redactString(value);
  if (typeof value === "bigint") return value.toString();
  if (value === null || typeof value !== "object") return value;
  if (depth > 6 || seen.has(value)) return "[…]";
  seen.add(value);
  if (value instanceof Error) {
    return {
      name: value.name,
      message: redactString(value.message),
      ...("code" in value && typeof value.code === "string" ? { code: value.code } : {}),
    };
  }
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map((item) => redact(item, depth + 1, seen));
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    out[key] = SECRET_FIELD.test(key) ? REDACTED : redact(item, depth + 1, seen);
  }
  return out;
}

export interface LoggerOptions {
  /** Lines below this level are dropped (default `info`). */
  readonly level?: LogLevel;
  /** Where lines go (default stdout). */
  readonly stream?: Pick<Writable, "write">;
}

export function createLogger(options: LoggerOptions = {}, bound: LogFields = {}): Logger {
  const minimum = LOG_LEVELS.indexOf(options.level ?? "info");
  const stream = options.stream ?? process.stdout;
  const write = (level: LogLevel, msg: string, fields: LogFields = {}) => {
    if (LOG_LEVELS.indexOf(level) < minimum) return;
    const line = redact({ time: new Date().toISOString(), level, msg, ...bound, ...fields });
    stream.write(`${JSON.stringify(line)}\n`);
  };
  return {
    debug: (msg, fields) => write("debug", msg, fields),
    info: (msg, fields) => write("info", msg, fields),
    warn: (msg, fields) => write("warn", msg, fields),
    error: (msg, fields) => write("error", msg, fields),
    child: (fields) => createLogger(options, { ...bound, ...fields }),
  };
}

/** A logger that writes nothing (tests that do not look at logs, the benchmark). */
export const silentLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  child: () => silentLogger,
};
