/**
 * One Dokku command from argv to exit code, whichever process serves it (a
 * Node process per command started by the entry script, `main.ts`, or the
 * host's long-running daemon, `daemon.ts`):
 * 1. under the host-wide state lock: applies any armed fault (fail instead of
 *    running, or drop the SSH session before/after the state change), runs the
 *    command against the state, saves it, appends to the command log;
 * 2. after releasing the lock: waits out an injected delay and any hold, then
 *    hands back the buffered output and the exit code.
 */
import { join } from "node:path";
import { appendCommandLog, type LoggedFault } from "./commandLog.ts";
import { type Ctx, cryptoRandomHex, globalFlagsFromEnv, type Stdin, StdinNeeded } from "./context.ts";
import { dispatch } from "./dispatch.ts";
import { DokkuFailure, SilentExit, UsageExit } from "./errors.ts";
import { decideFaults, type FaultDecision, readFaults, writeFaults } from "./faults.ts";
import { Output } from "./output.ts";
import { StateStore } from "./state.ts";

export interface CommandRequest {
  readonly stateDir: string;
  /** Argv after Dokku's SSH re-parsing, global flags stripped. */
  readonly argv: readonly string[];
  /** What the entry script exported: global flags, `DOKKU_DOUBLE_RAW_COMMAND`, `DOKKU_DOUBLE_STARTED_MS`, `SSH_USER`. */
  readonly env: Readonly<Record<string, string | undefined>>;
}

/** The process side of a command: its stdin, the state lock, and the SSH session. */
export interface CommandSession {
  readonly stdin: Stdin;
  lock(): Promise<void>;
  unlock(): void;
  /** Ends the SSH session as if the connection died (ssh exits 255). */
  drop(): Promise<void>;
  /** Fetches more stdin for a stdin that throws {@link StdinNeeded}; the command is then replayed. */
  fetchStdin?(mode: StdinNeeded["mode"]): Promise<void>;
}

export type CommandOutcome =
  | { kind: "exit"; exitCode: number; stdout: Buffer; stderr: Buffer }
  | { kind: "dropped" };

/** A bug in the double, not Dokku behaviour: the state stays untouched and the client sees it loudly. */
const INTERNAL_ERROR_EXIT = 70;

function sleep(ms: number): Promise<void> {
  return new Promise((resolveSleep) => setTimeout(resolveSleep, ms));
}

/** How often a held command looks whether its hold was lifted (the faults file is replaced atomically). */
const HOLD_POLL_MS = 50;

/** The answer's wait, outside the lock: the injected delay, then until the matching hold is lifted. */
async function answerWait(decision: FaultDecision, faultsPath: string): Promise<void> {
  if (decision.delayMs > 0) await sleep(decision.delayMs);
  const { holdId } = decision;
  if (holdId === null) return;
  while (readFaults(faultsPath).holds.some((hold) => hold.id === holdId)) await sleep(HOLD_POLL_MS);
}

/** How a command that threw ends, the way Dokku renders each shape; undefined for a bug. */
function exitCodeOf(error: unknown, out: Output): number | undefined {
  if (error instanceof DokkuFailure) {
    if (error.message !== "") out.warn(error.message);
    return error.exitCode;
  }
  if (error instanceof SilentExit) return error.exitCode;
  if (error instanceof UsageExit) {
    out.write("stderr", error.text.endsWith("\n") ? error.text : `${error.text}\n`);
    return error.exitCode;
  }
  return undefined;
}

export async function runCommand(request: CommandRequest, session: CommandSession): Promise<CommandOutcome> {
  const { stateDir, argv, env } = request;
  const startedMs = Number(env.DOKKU_DOUBLE_STARTED_MS) || Date.now();
  const faultsPath = join(stateDir, "faults.json");
  const logPath = join(stateDir, "commands.jsonl");
  await session.lock();

  const faults = readFaults(faultsPath);
  const { decision, next } = decideFaults(faults, argv.join(" "));
  if (JSON.stringify(next) !== JSON.stringify(faults)) writeFaults(faultsPath, next);
  const log = (exitCode: number, fault: LoggedFault): void =>
    appendCommandLog(logPath, {
      at: new Date(startedMs).toISOString(),
      argv: [...argv],
      raw: env.DOKKU_DOUBLE_RAW_COMMAND ?? null,
      exitCode,
      durationMs: Date.now() - startedMs + decision.delayMs,
      fault,
      delayMs: decision.delayMs,
    });
  const dropped = async (fault: LoggedFault): Promise<CommandOutcome> => {
    log(255, fault);
    session.unlock();
    await session.drop();
    return { kind: "dropped" };
  };

  const action = decision.action;
  if (action.kind === "fail") {
    log(action.exitCode, "fail");
    session.unlock();
    await answerWait(decision, faultsPath);
    const stderr =
      action.stderr === "" || action.stderr.endsWith("\n") ? action.stderr : `${action.stderr}\n`;
    return { kind: "exit", exitCode: action.exitCode, stdout: Buffer.alloc(0), stderr: Buffer.from(stderr) };
  }
  if (action.kind === "drop" && action.when === "before") return dropped("drop-before");

  const flags = globalFlagsFromEnv(env);
  const store = new StateStore(join(stateDir, "state.json"));
  for (;;) {
    const out = new Output(flags.quiet);
    const state = store.load();
    const ctx: Ctx = {
      state,
      out,
      flags: { ...flags },
      stdin: session.stdin,
      user: env.SSH_USER === "root" ? "root" : "dokku",
      now: () => Date.now(),
      randomHex: cryptoRandomHex,
    };
    let exitCode = 0;
    try {
      await dispatch(ctx, [...argv], { hasTty: () => session.stdin.isTty() });
    } catch (error) {
      if (error instanceof StdinNeeded && session.fetchStdin) {
        // Nothing of this attempt is kept: the replay starts from the saved state.
        await session.fetchStdin(error.mode);
        continue;
      }
      const code = exitCodeOf(error, out);
      if (code === undefined) {
        log(INTERNAL_ERROR_EXIT, null);
        session.unlock();
        const text = `dokku-double internal error: ${(error as Error).stack ?? String(error)}\n`;
        return {
          kind: "exit",
          exitCode: INTERNAL_ERROR_EXIT,
          stdout: Buffer.alloc(0),
          stderr: Buffer.from(text),
        };
      }
      exitCode = code;
    }
    // Like Dokku's bash plugins, a failing command keeps whatever it changed before failing.
    store.save(state);
    if (action.kind === "drop") return dropped("drop-after");
    log(exitCode, null);
    session.unlock();
    await answerWait(decision, faultsPath);
    return { kind: "exit", exitCode, stdout: out.bytes("stdout"), stderr: out.bytes("stderr") };
  }
}
