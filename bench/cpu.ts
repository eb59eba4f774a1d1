/**
 * CPU time, to tell "slow" from "starved" on a 2-core machine shared with
 * other work: how much CPU our own processes used, split into the automation
 * layer (this process, the pool's workers, their pulumi CLIs, language host,
 * analyzer and provider plugins) and the Dokku test host (its sshd, the SSH
 * sessions and the double's processes, which a real deployment runs on another
 * machine), and how busy the whole machine was. From /proc, in milliseconds.
 */
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";

const TICK_MS = 1000 / Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim() || "100");

interface Ticks {
  readonly comm: string;
  readonly ppid: number;
  /** utime + stime */
  readonly own: number;
  /** cutime + cstime: every reaped descendant, recursively */
  readonly children: number;
}

function processTicks(pid: number | "self"): Ticks | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const comm = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
    const f = stat
      .slice(stat.lastIndexOf(")") + 2)
      .split(" ")
      .map(Number);
    // Fields after the command: state(0) ppid(1) … utime(11) stime(12) cutime(13) cstime(14).
    return { comm, ppid: f[1] ?? 0, own: (f[11] ?? 0) + (f[12] ?? 0), children: (f[13] ?? 0) + (f[14] ?? 0) };
  } catch {
    // The process ended while we looked.
    return undefined;
  }
}

/**
 * CPU used so far by this process and all its descendants: its own time, the
 * time of every child it reaped (cutime/cstime accumulate down the tree, so a
 * finished pulumi CLI's plugins are in its worker's figure), plus the running
 * direct children (workers, sshd) with what they reaped in turn. Deltas of this
 * over a window are the window's CPU cost; only grandchildren still running at
 * its end are missed, and there are none between operations.
 */
export function treeCpuMs(): { automation: number; host: number } {
  const self = processTicks("self");
  let automation = self ? self.own + self.children : 0;
  let host = 0;
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const p = processTicks(Number(entry));
    if (!p || p.ppid !== process.pid) continue;
    if (p.comm === "sshd") host += p.own + p.children;
    else automation += p.own + p.children;
  }
  return { automation: automation * TICK_MS, host: host * TICK_MS };
}

/** Busy and total CPU time of the whole machine (all cores) since boot. */
export function machineCpuMs(): { busy: number; total: number } {
  const line = readFileSync("/proc/stat", "utf8").split("\n")[0] ?? "";
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  const total = v.slice(0, 8).reduce((a, b) => a + b, 0);
  const idle = (v[3] ?? 0) + (v[4] ?? 0);
  return { busy: (total - idle) * TICK_MS, total: total * TICK_MS };
}

export interface CpuWindow {
  /** CPU time the automation layer's processes used in the window. */
  readonly automationMs: number;
  /** CPU time the Dokku test host's processes used in the window. */
  readonly hostMs: number;
  /** Share of the machine's CPU capacity in use (by anyone) during the window. */
  readonly machineBusy: number;
}

/** Starts measuring; call the result to end the window. */
export function cpuWindow(): () => CpuWindow {
  const ours = treeCpuMs();
  const machine = machineCpuMs();
  return () => {
    const t = treeCpuMs();
    const m = machineCpuMs();
    return {
      automationMs: t.automation - ours.automation,
      hostMs: t.host - ours.host,
      machineBusy: (m.busy - machine.busy) / Math.max(1, m.total - machine.total),
    };
  };
}
