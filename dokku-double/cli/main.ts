/**
 * Node side of the forced command when no daemon serves the host (the
 * repository copy run by hand; an instance normally hands commands to
 * `daemon.ts` through its client). The bash entry (`../dokku`) has already done
 * Dokku's two-stage argument parsing, exported the global-flag variables, and
 * taken the flock on the state directory (fd 9); `runCommand` does the rest and
 * this process releases the output and exits with the command's code.
 */
import { closeSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { runCommand } from "./commandRun.ts";
import { processStdin } from "./context.ts";

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

const stateDir = process.env.DOKKU_DOUBLE_STATE_DIR ?? resolve(import.meta.dirname, "../../state");
const outcome = await runCommand(
  { stateDir, argv: process.argv.slice(2), env: process.env },
  {
    stdin: processStdin(),
    // Taken by the entry script before this process started.
    lock: async () => undefined,
    unlock: () => {
      if (Number.isInteger(LOCK_FD) && LOCK_FD > 2) closeSync(LOCK_FD);
    },
    drop: async () => dropConnection(),
  },
);
if (outcome.kind === "exit") {
  process.stdout.write(outcome.stdout);
  process.stderr.write(outcome.stderr);
  process.exitCode = outcome.exitCode;
}
