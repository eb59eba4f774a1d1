/**
 * The logger's JSON lines made readable for a person at a terminal:
 * `12:00:01.234 INFO  msg key=value …`, an error's stack indented below its
 * line, the level coloured when colour is on. The JSON is already redacted.
 */
import type { LineStream } from "./logger.ts";

const LEVEL_COLOR: Record<string, number> = { debug: 2, info: 32, warn: 33, error: 31 };

function text(value: unknown): string {
  return typeof value === "string" ? value : JSON.stringify(value);
}

export function prettyLine(line: string, color: boolean): string {
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
  }
  const { time, level, msg, ...fields } = parsed;
  const stacks: string[] = [];
  const rest = Object.entries(fields).map(([key, value]) => {
    if (value && typeof value === "object" && "stack" in value && typeof value.stack === "string") {
      stacks.push(value.stack);
      const { stack: _stack, ...short } = value as Record<string, unknown>;
      return `${key}=${text(short)}`;
    }
    return `${key}=${text(value)}`;
  });
  const label = String(level ?? "")
    .toUpperCase()
    .padEnd(5);
  const code = LEVEL_COLOR[String(level)];
  const shown = color && code ? `\u001b[${code}m${label}\u001b[0m` : label;
  const head = [String(time ?? "").slice(11, 23), shown, String(msg ?? ""), ...rest].join(" ").trimEnd();
  return [head, ...stacks.map((s) => s.replace(/^/gm, "    "))].join("\n");
}

/** A destination for pino that writes each JSON line as a readable one. */
export function prettyLines(stream: LineStream, options: { color: boolean }): { write(line: string): void } {
  return {
    write(chunk: string) {
      for (const line of chunk.split("\n"))
        if (line.trim() !== "") stream.write(`${prettyLine(line, options.color)}\n`);
    },
  };
}
