/**
 * The portal server's logger: the platform's one logger (logging/logger.ts) with `service: portal`,
 * JSON lines in production, readable ones in a terminal (MINDROOM_LOG_FORMAT, MINDROOM_LOG_LEVEL).
 */
import { createLogger, LOG_LEVELS, type LogLevel, logFormatFromEnv } from "../../../logging/logger.ts";

function level(): LogLevel {
  const value = process.env.MINDROOM_LOG_LEVEL?.trim() || "info";
  return (LOG_LEVELS as readonly string[]).includes(value) ? (value as LogLevel) : "info";
}

export const log = createLogger({
  level: level(),
  format: logFormatFromEnv(),
  fields: { service: "portal" },
});
