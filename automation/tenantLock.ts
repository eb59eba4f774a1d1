/**
 * At most one operation per tenant at a time, within a process and across
 * processes on this machine. The cross-process guard is a kernel `flock` held by
 * a small child for as long as the operation runs: when the holder dies, however
 * it dies, its pipe closes and the kernel releases the lock, so a lock can never
 * be left stale. (Across machines the reconcile queue serialises tenants, and
 * Pulumi's own stack lock is the last guard.)
 */
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";

export interface LockHolder {
  readonly pid: number;
  readonly host: string;
  readonly operation: string;
  readonly since: string;
}

/** Another process holds the tenant's lock and did not release it in time. */
export class TenantBusyError extends Error {
  override readonly name = "TenantBusyError";
  readonly holder: LockHolder | undefined;
  constructor(slug: string, holder: LockHolder | undefined) {
    super(
      `tenant ${slug} is busy${holder ? ` with ${holder.operation} (pid ${holder.pid} on ${holder.host} since ${holder.since})` : ""}; try again when it finishes`,
    );
    this.holder = holder;
  }
}

export interface TenantLock {
  release(): Promise<void>;
}

const inProcess = new Map<string, Promise<void>>();

/** Runs `fn` holding the tenant's lock; waits up to `waitMs` for another holder. */
export async function withTenantLock<T>(
  locksDir: string,
  slug: string,
  operation: string,
  fn: () => Promise<T>,
  waitMs = 0,
): Promise<T> {
  // Same process: queue behind the current holder instead of contending for the flock.
  const previous = inProcess.get(slug) ?? Promise.resolve();
  let done!: () => void;
  const mine = new Promise<void>((resolve) => {
    done = resolve;
  });
  const chained = previous.then(() => mine);
  inProcess.set(slug, chained);
  await previous;
  try {
    const lock = await acquire(locksDir, slug, operation, waitMs);
    try {
      return await fn();
    } finally {
      await lock.release();
    }
  } finally {
    done();
    if (inProcess.get(slug) === chained) inProcess.delete(slug);
  }
}

async function acquire(
  locksDir: string,
  slug: string,
  operation: string,
  waitMs: number,
): Promise<TenantLock> {
  mkdirSync(locksDir, { recursive: true });
  const lockPath = join(locksDir, `${slug}.lock`);
  const holderPath = join(locksDir, `${slug}.holder.json`);
  const args = [
    "-w",
    String(Math.max(0, waitMs) / 1000),
    lockPath,
    "sh",
    "-c",
    "echo locked; exec cat >/dev/null",
  ];
  const child: ChildProcessWithoutNullStreams = spawn("flock", args, { stdio: ["pipe", "pipe", "pipe"] });
  const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
  const locked = await new Promise<boolean>((resolve, reject) => {
    child.stdout.once("data", () => resolve(true));
    child.once("error", reject);
    child.once("exit", () => resolve(false));
  });
  if (!locked) throw new TenantBusyError(slug, readHolder(holderPath));
  const holder: LockHolder = {
    pid: process.pid,
    host: hostname(),
    operation,
    since: new Date().toISOString(),
  };
  writeFileSync(holderPath, JSON.stringify(holder));
  return {
    async release() {
      rmSync(holderPath, { force: true });
      child.stdin.end();
      await exited;
    },
  };
}

function readHolder(path: string): LockHolder | undefined {
  try {
    return JSON.parse(readFileSync(path, "utf8")) as LockHolder;
  } catch {
    return undefined;
  }
}
