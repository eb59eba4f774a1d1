/**
 * Everything a command implementation may touch: the host state, the output
 * buffer, the global flags the entry script parsed, stdin, a clock and a source
 * of randomness. Commands are plain functions of this context and their argv.
 */
import { readSync } from "node:fs";
import type { Output } from "./output.ts";
import type { HostState } from "./state.ts";

/** What `parse_args` exported (DOKKU_QUIET_OUTPUT, DOKKU_APPS_FORCE_DELETE, DOKKU_APP_NAME, DOKKU_GLOBAL_FLAGS). */
export interface GlobalFlags {
  readonly quiet: boolean;
  readonly trace: boolean;
  readonly appName: string;
  /** `DOKKU_GLOBAL_FLAGS`: every `--*` word of the stage-1 command line. pg/redis link looks for `--no-restart` here. */
  readonly raw: string;
  /** Mutable: Go subcommands with their own `--force` set it for the rest of the command. */
  force: boolean;
}

export interface Stdin {
  isTty(): boolean;
  /** Reads to EOF. */
  readAll(): Buffer;
  /**
   * Reads one line like bash `read`: `terminated` is false when EOF came before a
   * newline (bash `read` then fails, Go `Scanln` still returns the token).
   */
  readLine(): { line: string; terminated: boolean };
}

/**
 * Thrown by a stdin that has to fetch more input asynchronously (the daemon's,
 * whose client forwards stdin on request): the command runner fetches it and
 * replays the command from a fresh state, so commands stay synchronous readers.
 */
export class StdinNeeded extends Error {
  override readonly name = "StdinNeeded";
  readonly mode: "line" | "all";

  constructor(mode: "line" | "all") {
    super(`stdin: need ${mode === "line" ? "a line" : "everything to EOF"}`);
    this.mode = mode;
  }
}

export interface Ctx {
  readonly state: HostState;
  readonly out: Output;
  readonly flags: GlobalFlags;
  readonly stdin: Stdin;
  /** Who runs the command: `root` from the root shell (root-only commands check it), else `dokku`. */
  readonly user: string;
  /** Epoch milliseconds. */
  now(): number;
  /** `openssl rand -hex N`. */
  randomHex(bytes: number): string;
}

export function globalFlagsFromEnv(env: Readonly<Record<string, string | undefined>>): GlobalFlags {
  return {
    quiet: (env.DOKKU_QUIET_OUTPUT ?? "") !== "",
    trace: (env.DOKKU_TRACE ?? "") !== "",
    appName: env.DOKKU_APP_NAME ?? "",
    raw: env.DOKKU_GLOBAL_FLAGS ?? "",
    force: env.DOKKU_APPS_FORCE_DELETE === "1",
  };
}

export function processStdin(fd = 0): Stdin {
  const readChunk = (buffer: Buffer): number => {
    for (;;) {
      try {
        return readSync(fd, buffer, 0, buffer.length, null);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === "EAGAIN") continue;
        if (code === "EOF") return 0;
        throw error;
      }
    }
  };
  return {
    // Loaded lazily: node:tty (and node:crypto below) cost milliseconds on every command otherwise.
    isTty: () => process.getBuiltinModule("node:tty").isatty(fd),
    readAll() {
      const chunks: Buffer[] = [];
      const buffer = Buffer.alloc(64 * 1024);
      for (let n = readChunk(buffer); n > 0; n = readChunk(buffer))
        chunks.push(Buffer.from(buffer.subarray(0, n)));
      return Buffer.concat(chunks);
    },
    readLine() {
      // Byte by byte, so nothing after the newline is consumed (like bash `read`).
      const bytes: number[] = [];
      const one = Buffer.alloc(1);
      for (;;) {
        if (readChunk(one) === 0) return { line: Buffer.from(bytes).toString("utf8"), terminated: false };
        if (one[0] === 0x0a) return { line: Buffer.from(bytes).toString("utf8"), terminated: true };
        bytes.push(one[0] ?? 0);
      }
    },
  };
}

export function cryptoRandomHex(bytes: number): string {
  return process.getBuiltinModule("node:crypto").randomBytes(bytes).toString("hex");
}
