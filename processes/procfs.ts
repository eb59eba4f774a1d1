/**
 * What Linux's /proc says about processes: identity (pid + start time, so a
 * reused pid is never taken for the process it once was), parentage, the
 * environment a process started with. Every read tolerates a process that ends
 * while it is being read.
 */
import { readdirSync, readFileSync } from "node:fs";

export interface ProcessInfo {
  readonly pid: number;
  readonly ppid: number;
  readonly pgid: number;
  /** Field 22 of /proc/<pid>/stat: clock ticks after boot. With the boot id, it names one process for good. */
  readonly startTicks: number;
  /** `R`, `S`, `T` (stopped), `Z` (zombie: dead, waiting to be reaped), … */
  readonly state: string;
  readonly comm: string;
  /** Resident memory (4 KiB pages). */
  readonly rssBytes: number;
}

/** USER_HZ: 100 on every Linux architecture Node runs on (what `getconf CLK_TCK` prints). */
const TICKS_PER_SECOND = 100;

export function processInfo(pid: number): ProcessInfo | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return undefined;
  }
  // "pid (comm) state ppid pgrp …": comm may hold spaces and parentheses.
  const close = stat.lastIndexOf(")");
  const fields = stat.slice(close + 2).split(" ");
  return {
    pid,
    comm: stat.slice(stat.indexOf("(") + 1, close),
    state: fields[0] ?? "?",
    ppid: Number(fields[1]),
    pgid: Number(fields[2]),
    startTicks: Number(fields[19]),
    rssBytes: Number(fields[21]) * 4096,
  };
}

export function allProcesses(): ProcessInfo[] {
  const out: ProcessInfo[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const info = processInfo(Number(entry));
    if (info) out.push(info);
  }
  return out;
}

/** Whether the process runs (a zombie has already ended). */
export function isRunning(pid: number, startTicks?: number): boolean {
  const info = processInfo(pid);
  return (
    info !== undefined && info.state !== "Z" && (startTicks === undefined || info.startTicks === startTicks)
  );
}

/** The processes below `root`, nearest first. */
export function descendantsOf(root: number, processes = allProcesses()): ProcessInfo[] {
  const children = new Map<number, ProcessInfo[]>();
  for (const p of processes) children.set(p.ppid, [...(children.get(p.ppid) ?? []), p]);
  const out: ProcessInfo[] = [];
  const queue = [root];
  for (let pid = queue.shift(); pid !== undefined; pid = queue.shift()) {
    for (const child of children.get(pid) ?? []) {
      out.push(child);
      queue.push(child.pid);
    }
  }
  return out;
}

/** This process and its ancestors up to init. */
export function ancestry(pid = process.pid): Set<number> {
  const out = new Set<number>();
  for (let p: number | undefined = pid; p && !out.has(p); p = processInfo(p)?.ppid) out.add(p);
  return out;
}

/** Identifies this boot: start times count from it. */
export function bootId(): string {
  return readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim();
}

/** When a process started, from its start ticks. */
export function startedAt(startTicks: number): Date {
  const btime = Number(/^btime (\d+)$/m.exec(readFileSync("/proc/stat", "utf8"))?.[1] ?? 0);
  return new Date(btime * 1000 + (startTicks / TICKS_PER_SECOND) * 1000);
}

/** A variable of the environment the process was started with (not what it set later). */
export function environValue(pid: number, name: string): string | undefined {
  let environ: string;
  try {
    environ = readFileSync(`/proc/${pid}/environ`, "utf8");
  } catch {
    return undefined;
  }
  const prefix = `${name}=`;
  for (const entry of environ.split("\0")) if (entry.startsWith(prefix)) return entry.slice(prefix.length);
  return undefined;
}

/** The command line, arguments joined by spaces (empty for a zombie or a kernel thread). */
export function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean).join(" ");
  } catch {
    return "";
  }
}
