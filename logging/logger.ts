/**
 * The one logger every process of the platform uses (webhook service, reconcile
 * worker, mail sender, portal, operator commands): pino underneath, one JSON
 * object per line in production (`time`, `level`, `msg`, then fields), readable
 * lines in a terminal (prettyLines.ts). Every line passes through redact.ts on
 * its way out, whatever a caller passes, and an error keeps its stack.
 *
 * Format: `json` or `pretty`; `auto` (the default) is pretty on a terminal and
 * JSON elsewhere, `MINDROOM_LOG_FORMAT` overrides it.
 */
import { pino } from "pino";
import { colorEnabled } from "../automation/cli/terminal.ts";
import { prettyLines } from "./prettyLines.ts";
import { redact, redactString } from "./redact.ts";

export const LOG_LEVELS = ["debug", "info", "warn", "error"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export type LogFormat = "json" | "pretty" | "auto";

export type LogFields = Readonly<Record<string, unknown>>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A logger that adds `fields` to every line. */
  child(fields: LogFields): Logger;
}

export interface LineStream {
  write(line: string): unknown;
  readonly isTTY?: boolean;
}

export interface LoggerOptions {
  /** Lines below this level are dropped (default `info`). */
  readonly level?: LogLevel;
  /** Where lines go (default stdout). */
  readonly stream?: LineStream;
  /** Default `auto`: pretty when the stream is a terminal, JSON otherwise. */
  readonly format?: LogFormat;
  /** Fields on every line, e.g. `{ service: "webhooks" }`. */
  readonly fields?: LogFields;
}

export class LogFormatError extends Error {
  override readonly name = "LogFormatError";
}

/** `MINDROOM_LOG_FORMAT`: json, pretty or auto (unset). */
export function logFormatFromEnv(env: NodeJS.ProcessEnv = process.env): LogFormat {
  const value = env.MINDROOM_LOG_FORMAT?.trim() || "auto";
  if (value !== "json" && value !== "pretty" && value !== "auto")
    throw new LogFormatError(`MINDROOM_LOG_FORMAT must be json, pretty or auto, got ${value}`);
  return value;
}

function wrap(log: pino.Logger): Logger {
  const write = (level: LogLevel) => (msg: string, fields?: LogFields) => {
    if (!log.isLevelEnabled(level)) return;
    log[level](fields ? (redact(fields) as object) : {}, redactString(msg));
  };
  return {
    debug: write("debug"),
    info: write("info"),
    warn: write("warn"),
    error: write("error"),
    child: (fields) => wrap(log.child(redact(fields) as pino.Bindings)),
  };
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const stream = options.stream ?? process.stdout;
  const requested = options.format ?? "auto";
  const format = requested === "auto" ? (stream.isTTY ? "pretty" : "json") : requested;
  const destination =
    format === "pretty"
      ? prettyLines(stream, { color: colorEnabled(stream) })
      : { write: (l: string) => stream.write(l) };
  const log = pino(
    {
      level: options.level ?? "info",
      base: null,
      messageKey: "msg",
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
  const logger = wrap(log);
  return options.fields ? logger.child(options.fields) : logger;
}

/** A logger that writes nothing (tests that do not look at logs, the benchmark). */
export const silentLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  child: () => silentLogger,
};
