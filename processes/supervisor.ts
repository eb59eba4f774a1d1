/**
 * Starts the platform's child processes so that none outlives this process,
 * whatever ends it (processes/README.md):
 *
 *   const postgres = supervise("postgres", binary, args, { stopSignal: "SIGINT" });
 *   …
 *   await postgres.stop();   // SIGINT, then the whole tree SIGKILLed after graceMs
 *
 * Each child runs through `tether` (its parent-death signal and subreaper take
 * the child's whole tree down when this process dies, even by SIGKILL), in a
 * process group of its own (a terminal's Ctrl-C reaches only this process,
 * which stops its children in order), with this process's marker variables
 * (processes/markers.ts) in its environment. During a platform run (processes/run.ts)
 * each child also leaves a pid file with its start time, so the next run can
 * end what a crash left behind.
 */
import { type ChildProcess, type StdioOptions, spawn } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { killTree } from "./killTree.ts";
import { inheritedMarkers } from "./markers.ts";
import { allProcesses, bootId, processInfo } from "./procfs.ts";
import { type TetherOptions, tethered } from "./tether.ts";

export interface SuperviseOptions {
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  /** Default: stdin ignored, stdout and stderr inherited. `"ipc"` works as with fork(). */
  readonly stdio?: StdioOptions;
  readonly uid?: number;
  readonly gid?: number;
  /** What the child gets on stop() and when this process dies (default SIGTERM). */
  readonly stopSignal?: TetherOptions["signal"];
  /** How long it then has to exit before its whole tree is SIGKILLed (default 10 s). */
  readonly graceMs?: number;
}

export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface Supervised {
  /** Unique among this process's children (`worker`, `worker-2`, …); names the pid file. */
  readonly name: string;
  /** The pid of the child's tether; the program is its only child. */
  readonly pid: number;
  /** The program's own pid, once tether has started it. */
  programPid(): number | undefined;
  readonly child: ChildProcess;
  readonly exited: Promise<Exit>;
  readonly running: boolean;
  /** Sends the stop signal, waits up to `graceMs`, then kills the whole tree. */
  stop(options?: { readonly graceMs?: number }): Promise<Exit>;
  /** Kills the whole tree now. */
  kill(): Promise<Exit>;
}

/** What a pid file holds: enough to recognise the process, never to mistake another for it. */
export interface ChildRecord {
  readonly name: string;
  readonly pid: number;
  readonly startTicks: number;
  readonly bootId: string;
  /** Program name, for reports. */
  readonly command: string;
  readonly graceMs: number;
}

let pidDirectory: string | undefined;
const live = new Map<string, Supervised>();

/** From now on every child leaves `<dir>/<name>.json` while it runs (processes/run.ts calls this). */
export function recordChildrenIn(dir: string | undefined): void {
  if (dir) mkdirSync(dir, { recursive: true });
  pidDirectory = dir;
}

function uniqueName(base: string): string {
  const clean = base.replace(/[^A-Za-z0-9_.-]/g, "-");
  if (!live.has(clean)) return clean;
  for (let i = 2; ; i++) if (!live.has(`${clean}-${i}`)) return `${clean}-${i}`;
}

export function supervise(
  name: string,
  command: string,
  args: readonly string[],
  options: SuperviseOptions = {},
): Supervised {
  const stopSignal = options.stopSignal ?? "SIGTERM";
  const graceMs = options.graceMs ?? 10_000;
  const [file, tetherArgs] = tethered(command, args, { signal: stopSignal, graceMs });
  const child = spawn(file, tetherArgs, {
    env: { ...(options.env ?? process.env), ...inheritedMarkers() },
    stdio: options.stdio ?? ["ignore", "inherit", "inherit"],
    detached: true,
    ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
    ...(options.uid === undefined ? {} : { uid: options.uid }),
    ...(options.gid === undefined ? {} : { gid: options.gid }),
  });
  const unique = uniqueName(name);
  const pid = child.pid ?? 0;
  const started = pid ? processInfo(pid) : undefined;
  const pidFile = pidDirectory && started ? join(pidDirectory, `${unique}.json`) : undefined;
  if (pidFile && started) {
    const record: ChildRecord = {
      name: unique,
      pid,
      startTicks: started.startTicks,
      bootId: bootId(),
      command: basename(command),
      graceMs,
    };
    writeFileSync(pidFile, `${JSON.stringify(record)}\n`);
  }
  let exit: Exit | undefined;
  const exited = new Promise<Exit>((resolve) => {
    const done = (code: number | null, signal: NodeJS.Signals | null) => {
      exit ??= { code, signal };
      live.delete(unique);
      if (pidFile) rmSync(pidFile, { force: true });
      resolve(exit);
    };
    child.once("exit", done);
    // Not started (the spawn failed): no "exit" follows.
    child.once("error", () => {
      if (child.pid === undefined) done(null, null);
    });
  });
  const kill = async () => {
    if (!exit && started) await killTree(pid, started.startTicks);
    return exited;
  };
  const handle: Supervised = {
    name: unique,
    pid,
    child,
    exited,
    programPid() {
      // Tether's oldest child: any other is an orphan re-parented to it.
      const children = allProcesses().filter((p) => p.ppid === pid);
      return children.sort((a, b) => a.startTicks - b.startTicks)[0]?.pid;
    },
    get running() {
      return exit === undefined;
    },
    async stop(stop = {}) {
      if (exit) return exit;
      if (stopSignal === "SIGKILL") return kill();
      child.kill(stopSignal);
      const timer = setTimeout(() => void kill(), stop.graceMs ?? graceMs);
      const result = await exited;
      clearTimeout(timer);
      return result;
    },
    kill,
  };
  if (pid) live.set(unique, handle);
  return handle;
}

/** Every child still running, oldest first. */
export function supervisedChildren(): Supervised[] {
  return [...live.values()];
}
