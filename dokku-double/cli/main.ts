/**
 * Node side of the forced command. The bash entry (`../dokku`) has already done
 * Dokku's two-stage argument parsing, exported the global-flag variables, and
 * taken the flock on the state directory (fd 9); this process:
 * 1. applies any armed fault (fail instead of running, or drop the SSH session
 *    before/after the state change),
 * 2. runs the command against the state and saves it,
 * 3. appends to the command log, releases the lock,
 * 4. waits out an injected delay, then releases the buffered output and exits.
 */
import { closeSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { appendCommandLog, type LoggedFault } from "./commandLog.ts";
import { type Ctx, cryptoRandomHex, globalFlagsFromEnv, processStdin } from "./context.ts";
import { dispatch } from "./dispatch.ts";
import { DokkuFailure, SilentExit, UsageExit } from "./errors.ts";
import { decideFaults, readFaults, writeFaults } from "./faults.ts";
import { Output } from "./output.ts";
import { StateStore } from "./state.ts";

/** The entry script passes the flock as an inherited fd and names it here; absent when run by hand. */
const LOCK_FD = Number(process.env.DOKKU_DOUBLE_LOCK_FD ?? "");

function parentOf(pid: number): { ppid: number; comm: string } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Field 2 is "(comm)" and may contain spaces; the fields after the last ")" are fixed.
    const close = stat.lastIndexOf(")");
    const ppid = Number(stat.slice(close + 2).split(" ")[1]);
    const comm = readFileSync(`/proc/${pid}/comm`, "utf8").trim();
    return { ppid, comm };
  } catch {
    return undefined;
  }
}

/**
 * Kills the per-connection sshd process (it runs as this same user after
 * privilege separation), so the client sees the connection die without an exit
 * status: `ssh` exits 255, exactly like a network failure.
 */
function dropConnection(): never {
  let pid = process.ppid;
  for (let hops = 0; hops < 16 && pid > 1; hops++) {
    const info = parentOf(pid);
    if (!info) break;
    if (info.comm.startsWith("sshd")) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // A root-owned session (the shell-user path): its `dokku` wrapper sees 255 and kills it.
      }
      break;
    }
    pid = info.ppid;
  }
  process.exit(255);
}

function releaseLock(): void {
  if (Number.isInteger(LOCK_FD) && LOCK_FD > 2) closeSync(LOCK_FD);
}

async function main(): Promise<number> {
  const startedMs = Number(process.env.DOKKU_DOUBLE_STARTED_MS) || Date.now();
  const stateDir = process.env.DOKKU_DOUBLE_STATE_DIR ?? resolve(import.meta.dirname, "../../state");
  const argv = process.argv.slice(2);
  const raw = process.env.DOKKU_DOUBLE_RAW_COMMAND ?? null;
  const faultsPath = join(stateDir, "faults.json");
  const logPath = join(stateDir, "commands.jsonl");

  const faults = readFaults(faultsPath);
  const { decision, next } = decideFaults(faults, argv.join(" "));
  if (JSON.stringify(next) !== JSON.stringify(faults)) writeFaults(faultsPath, next);
  const log = (exitCode: number, fault: LoggedFault): void =>
    appendCommandLog(logPath, {
      at: new Date(startedMs).toISOString(),
      argv,
      raw,
      exitCode,
      durationMs: Date.now() - startedMs + decision.delayMs,
      fault,
      delayMs: decision.delayMs,
    });

  const action = decision.action;
  if (action.kind === "fail") {
    log(action.exitCode, "fail");
    releaseLock();
    if (decision.delayMs > 0) await sleep(decision.delayMs);
    if (action.stderr !== "")
      process.stderr.write(action.stderr.endsWith("\n") ? action.stderr : `${action.stderr}\n`);
    return action.exitCode;
  }
  if (action.kind === "drop" && action.when === "before") {
    log(255, "drop-before");
    dropConnection();
  }

  const flags = globalFlagsFromEnv(process.env);
  const out = new Output(flags.quiet);
  const store = new StateStore(join(stateDir, "state.json"));
  const state = store.load();
  const stdin = processStdin();
  const ctx: Ctx = {
    state,
    out,
    flags,
    stdin,
    user: process.env.SSH_USER === "root" ? "root" : "dokku",
    now: () => Date.now(),
    randomHex: cryptoRandomHex,
  };

  let exitCode = 0;
  try {
    await dispatch(ctx, argv, { hasTty: () => stdin.isTty() });
  } catch (error) {
    if (error instanceof DokkuFailure) {
      if (error.message !== "") out.warn(error.message);
      exitCode = error.exitCode;
    } else if (error instanceof SilentExit) {
      exitCode = error.exitCode;
    } else if (error instanceof UsageExit) {
      out.write("stderr", error.text.endsWith("\n") ? error.text : `${error.text}\n`);
      exitCode = error.exitCode;
    } else {
      // A bug in the double, not Dokku behaviour: keep the state untouched and make it loud.
      log(70, null);
      releaseLock();
      process.stderr.write(`dokku-double internal error: ${(error as Error).stack ?? String(error)}\n`);
      return 70;
    }
  }
  // Like Dokku's bash plugins, a failing command keeps whatever it changed before failing.
  store.save(state);

  if (action.kind === "drop") {
    log(255, "drop-after");
    dropConnection();
  }
  log(exitCode, null);
  releaseLock();
  if (decision.delayMs > 0) await sleep(decision.delayMs);
  process.stdout.write(out.bytes("stdout"));
  process.stderr.write(out.bytes("stderr"));
  return exitCode;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolveSleep) => setTimeout(resolveSleep, ms));
}

process.exitCode = await main();
