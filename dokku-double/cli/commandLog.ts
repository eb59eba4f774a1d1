/**
 * One JSON line per command in `<instance>/state/commands.jsonl`, appended under
 * the state lock: what ran, how it ended and how long it took (from the moment
 * the entry script started to the moment output was released).
 */
import { appendFileSync, existsSync, readFileSync } from "node:fs";

export type LoggedFault = "fail" | "drop-before" | "drop-after" | null;

export interface LoggedCommand {
  /** ISO timestamp of the start of the command. */
  at: string;
  /** Argv as Dokku received it after SSH re-parsing (global flags stripped). */
  argv: string[];
  /** `$SSH_ORIGINAL_COMMAND` as the client sent it to `dokku@`; null on the shell-user path or when run locally. */
  raw: string | null;
  /** 255 for a dropped connection, as the client sees it. */
  exitCode: number;
  durationMs: number;
  fault: LoggedFault;
  delayMs: number;
}

export function appendCommandLog(path: string, entry: LoggedCommand): void {
  appendFileSync(path, `${JSON.stringify(entry)}\n`, { mode: 0o666 });
}

export function readCommandLog(path: string): LoggedCommand[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, "utf8")
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => JSON.parse(line) as LoggedCommand);
}
