/**
 * One run of the platform on a data folder (`./platform start`): it refuses to
 * start beside a live run of the same folder, ends what an earlier run that
 * crashed left behind, and marks and records every process it starts.
 *
 * - `<data>/run/platform.json` names the running platform (pid + start time).
 * - `<data>/run/children/<name>.json`: one per supervised child (supervisor.ts).
 * - `MINDROOM_RUN=<folder id>:<run id>` in the environment of everything the
 *   run starts, however deep (pulumi, its plugins, Postgres backends): a process
 *   carrying the folder's id with another run's id is a leftover, whoever its
 *   parent is now.
 */
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, realpathSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { endProcesses, type Leftover, markedProcesses, recordedProcesses } from "./leftovers.ts";
import { RUN_MARKER } from "./markers.ts";
import { bootId, isRunning, processInfo, startedAt } from "./procfs.ts";
import { recordChildrenIn } from "./supervisor.ts";

/** Another platform runs on the same data folder. */
export class RunInProgressError extends Error {
  override readonly name = "RunInProgressError";
}

export interface PlatformRun {
  readonly runDir: string;
  /** This run's `MINDROOM_RUN` value. */
  readonly marker: string;
  /** The earlier run of this folder, when it did not stop cleanly (crashed or killed). */
  readonly crashed: { readonly pid: number; readonly startedAt: Date } | undefined;
  /** What an earlier run left running, now ended. */
  readonly ended: readonly Leftover[];
  /** Forgets the run's own record (the platform stopped cleanly). */
  finish(): void;
}

interface OwnerRecord {
  readonly pid: number;
  readonly startTicks: number;
  readonly bootId: string;
}

function folderId(dataDir: string): string {
  return createHash("sha256").update(realpathSync(dataDir)).digest("hex").slice(0, 16);
}

export async function startRun(dataDir: string): Promise<PlatformRun> {
  mkdirSync(dataDir, { recursive: true });
  const runDir = join(dataDir, "run");
  const childrenDir = join(runDir, "children");
  mkdirSync(childrenDir, { recursive: true });
  const ownerFile = join(runDir, "platform.json");
  const other = readOwner(ownerFile);
  if (
    other &&
    other.pid !== process.pid &&
    other.bootId === bootId() &&
    isRunning(other.pid, other.startTicks)
  )
    throw new RunInProgressError(
      `another platform (pid ${other.pid}, since ${startedAt(other.startTicks).toISOString()}) runs on ${dataDir}; stop it first, or give this one its own MINDROOM_DATA_DIR`,
    );
  const self = processInfo(process.pid);
  if (!self) throw new Error("cannot read /proc/self: the platform needs Linux's /proc");
  const owner: OwnerRecord = { pid: process.pid, startTicks: self.startTicks, bootId: bootId() };
  writeFileSync(`${ownerFile}.tmp`, JSON.stringify(owner));
  renameSync(`${ownerFile}.tmp`, ownerFile);

  const folder = folderId(dataDir);
  const marker = `${folder}:${process.pid}.${self.startTicks}`;
  // Recorded children first: their tethers end their own trees gently.
  const recorded = recordedProcesses(childrenDir);
  await endProcesses(recorded, Math.max(0, ...recorded.map((r) => r.graceMs)) + 2_000);
  const marked = markedProcesses(RUN_MARKER, (value) => value.startsWith(`${folder}:`) && value !== marker);
  await endProcesses(marked, 5_000);
  // Pid files left by the ended ones.
  recordedProcesses(childrenDir);

  process.env[RUN_MARKER] = marker;
  recordChildrenIn(childrenDir);
  return {
    runDir,
    marker,
    crashed:
      other && other.pid !== process.pid
        ? { pid: other.pid, startedAt: startedAt(other.startTicks) }
        : undefined,
    ended: [...recorded.map(({ graceMs: _, ...l }) => l), ...marked],
    finish() {
      recordChildrenIn(undefined);
      if (readOwner(ownerFile)?.pid === process.pid) rmSync(ownerFile, { force: true });
    },
  };
}

function readOwner(file: string): OwnerRecord | undefined {
  try {
    return JSON.parse(readFileSync(file, "utf8")) as OwnerRecord;
  } catch {
    return undefined;
  }
}

/** What `./platform start` says about the earlier run: nothing after a clean stop. */
export function describeStart(run: PlatformRun): string {
  const { ended, crashed } = run;
  const earlier = crashed
    ? `The earlier run of this data folder (pid ${crashed.pid}, started ${crashed.startedAt.toISOString()}) did not stop cleanly`
    : "An earlier run of this data folder";
  if (ended.length === 0) return crashed ? `${earlier}; none of its processes was left running.\n` : "";
  const lines = ended.map(
    (l) => `  ${l.name} (pid ${l.pid}, running since ${l.startedAt.toISOString()}): ${l.command}`,
  );
  return `${earlier}; ended ${ended.length} process${ended.length === 1 ? "" : "es"} it left running:\n${lines.join("\n")}\n`;
}
