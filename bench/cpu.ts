/**
 * CPU time, to tell "slow" from "starved" on a 2-core machine shared with
 * other work: how much CPU our own processes used, split into the automation
 * layer (this process, the pool's workers, their pulumi CLIs, language host,
 * analyzer and provider plugins) and the Dokku test host (its sshd, the SSH
 * sessions and the double's daemon, which a real deployment runs on another
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

function processTicks(pid: number): Ticks | undefined {
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
 * Whether a process is the Dokku test host's: its sshd (and through it every SSH
 * session) or the double's daemon, whatever supervisor sits between them and us.
 */
function isHostProcess(pid: number, p: Ticks): boolean {
  if (p.comm.startsWith("sshd")) return true;
  // By its script, not its name: Node 24 names its main thread (and so the process) "MainThread".
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("/double/cli/daemon.js");
  } catch {
    return false;
  }
}

/**
 * CPU used so far by this process and all its descendants: every live process
 * of the tree counts its own time plus the time of the children it reaped
 * (cutime/cstime accumulate down the tree, so a finished pulumi CLI's plugins
 * are in its worker's figure, a finished SSH session in sshd's). Live processes
 * are never in anyone's cutime, so nothing counts twice. Deltas of this over a
 * window are the window's CPU cost. A process below sshd or the double's daemon
 * counts for the host, however deep (supervisors sit in between).
 */
export function treeCpuMs(): { automation: number; host: number } {
  const processes = new Map<number, Ticks>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const p = processTicks(Number(entry));
    if (p) processes.set(Number(entry), p);
  }
  let automation = 0;
  let host = 0;
  for (const [pid, p] of processes) {
    let inTree = false;
    let hostSide = false;
    for (let current = pid, hops = 0; hops < 64; hops++) {
      if (current === process.pid) {
        inTree = true;
        break;
      }
      const q = processes.get(current);
      if (!q) break;
      if (!hostSide && isHostProcess(current, q)) hostSide = true;
      current = q.ppid;
    }
    if (!inTree) continue;
    if (hostSide) host += p.own + p.children;
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
