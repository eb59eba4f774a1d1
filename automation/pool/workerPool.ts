/**
 * A bounded pool of worker processes running tenant operations. A crash or a
 * hang in one tenant's operation takes down only its worker, which is replaced;
 * the caller gets a typed failure. Operations on one tenant are queued here so
 * they never occupy two workers (the tenant lock in the worker is the guard
 * across processes).
 */
import { type ChildProcess, fork } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { TenantSpecInput } from "../../components/tenantSpec.ts";
import type { OperationKind, OperationResult } from "../operationResult.ts";
import type { ProgressEvent } from "../progress.ts";
import type { AutomationSettings } from "../settings.ts";
import type { PolicyPackOptions } from "../tenantStacks.ts";
import type { TenantSecrets } from "../tenantWorkspaces.ts";
import type { WorkReply, WorkRequest } from "./protocol.ts";

type Job = Exclude<WorkRequest, { kind: "cancel" }>;
type JobInput = Job extends infer J ? (J extends Job ? Omit<J, "id"> : never) : never;

interface Pending {
  readonly job: Job;
  readonly tenant: string;
  readonly onProgress: ((event: ProgressEvent) => void) | undefined;
  readonly signal: AbortSignal | undefined;
  resolve(result: OperationResult): void;
}

interface Worker {
  readonly child: ChildProcess;
  current: Pending | undefined;
  timer: NodeJS.Timeout | undefined;
  sampler: NodeJS.Timeout | undefined;
}

export interface RunOptions {
  readonly onProgress?: (event: ProgressEvent) => void;
  readonly signal?: AbortSignal;
  /** `up` and `apply`: check the Dokku host for drift first (see UpOptions.probeDrift). */
  readonly probeDrift?: boolean;
  /**
   * The policy pack for this operation instead of the pool's (the reconcile worker passes one
   * built from the hosts table, which changes while the pool runs).
   */
  readonly policy?: PolicyPackOptions;
}

/**
 * How often a busy worker's memory is sampled. A scan of /proc costs a few ms;
 * per progress event (100+ per apply, in the one process serving every worker)
 * that added up, and a peak lasts longer than this anyway.
 */
const SAMPLE_MS = 500;

const WORKER = join(import.meta.dirname, "worker.ts");

export class WorkerPool {
  private readonly workers: Worker[] = [];
  private readonly queue: Pending[] = [];
  private readonly busyTenants = new Set<string>();
  private readonly settings: AutomationSettings;
  private readonly policy: PolicyPackOptions | undefined;
  private nextId = 1;
  private closed = false;
  /** Peak resident memory seen per worker pid, in bytes (sampled while busy). */
  readonly peakRss = new Map<number, number>();

  constructor(settings: AutomationSettings, policy?: PolicyPackOptions, size = settings.poolSize) {
    this.settings = settings;
    this.policy = policy;
    for (let i = 0; i < size; i++) this.workers.push(this.spawn());
  }

  get size(): number {
    return this.workers.length;
  }

  apply(spec: TenantSpecInput, secrets: TenantSecrets, options?: RunOptions): Promise<OperationResult> {
    const probe = options?.probeDrift ? { probeDrift: true } : {};
    return this.submit({ kind: "apply", spec, secrets, ...probe }, String(spec.slug), options);
  }

  run(
    kind: Exclude<OperationKind, "destroy">,
    tenant: string,
    options?: RunOptions,
  ): Promise<OperationResult> {
    if (kind === "up" && options?.probeDrift)
      return this.submit({ kind, tenant, probeDrift: true }, tenant, options);
    return this.submit({ kind, tenant }, tenant, options);
  }

  destroy(tenant: string, options?: RunOptions & { removeStack?: boolean }): Promise<OperationResult> {
    return this.submit(
      { kind: "destroy", tenant, removeStack: options?.removeStack ?? true },
      tenant,
      options,
    );
  }

  /** The pid of the worker running an operation for `tenant`, if one is. */
  workerPid(tenant: string): number | undefined {
    return this.workers.find((w) => w.current?.tenant === tenant)?.child.pid;
  }

  /** Stops taking work, lets running operations finish, then ends the workers. */
  async close(): Promise<void> {
    this.closed = true;
    while (this.queue.length > 0 || this.workers.some((w) => w.current))
      await new Promise((r) => setTimeout(r, 100));
    for (const w of this.workers) killTree(w.child);
  }

  private submit(input: JobInput, tenant: string, options: RunOptions = {}): Promise<OperationResult> {
    if (this.closed) throw new Error("the worker pool is closed");
    return new Promise((resolve) => {
      const job = {
        ...input,
        ...(options.policy ? { policy: options.policy } : {}),
        id: this.nextId++,
      } as Job;
      this.queue.push({ job, tenant, onProgress: options.onProgress, signal: options.signal, resolve });
      this.dispatch();
    });
  }

  private dispatch(): void {
    for (const worker of this.workers) {
      if (worker.current) continue;
      const index = this.queue.findIndex((p) => !this.busyTenants.has(p.tenant));
      if (index < 0) return;
      const [pending] = this.queue.splice(index, 1);
      if (!pending) return;
      this.start(worker, pending);
    }
  }

  private start(worker: Worker, pending: Pending): void {
    worker.current = pending;
    this.busyTenants.add(pending.tenant);
    // The worker's own timeout cancels the engine gracefully; this one catches a worker that hangs anyway.
    worker.timer = setTimeout(() => killTree(worker.child), this.settings.operationTimeoutMs + 60_000);
    worker.sampler = setInterval(() => this.sampleMemory(worker), SAMPLE_MS);
    pending.signal?.addEventListener(
      "abort",
      () =>
        worker.current === pending &&
        worker.child.send({ id: this.nextId++, kind: "cancel", target: pending.job.id }),
      { once: true },
    );
    worker.child.send(pending.job);
  }

  private finish(worker: Worker, result: OperationResult): void {
    const pending = worker.current;
    if (!pending) return;
    clearTimeout(worker.timer);
    clearInterval(worker.sampler);
    worker.current = undefined;
    this.busyTenants.delete(pending.tenant);
    this.sampleMemory(worker);
    pending.resolve(result);
    this.dispatch();
  }

  private spawn(): Worker {
    // Its own process group: the worker's pulumi CLI and plugins die with it (see killTree).
    const child = fork(WORKER, [], { stdio: ["ignore", "inherit", "inherit", "ipc"], detached: true });
    child.send({ kind: "init", settings: this.settings, policy: this.policy });
    const worker: Worker = { child, current: undefined, timer: undefined, sampler: undefined };
    child.on("message", (reply: WorkReply) => {
      const pending = worker.current;
      if (!pending || reply.id !== pending.job.id) return;
      if (reply.type === "progress") pending.onProgress?.(reply.event);
      else if (reply.type === "result") this.finish(worker, reply.result);
      else this.finish(worker, failure(pending, reply.error.kind, reply.error.message));
    });
    child.on("exit", (code, signal) => {
      // Whatever the worker started (pulumi, providers) must not outlive it and hold the stack's lock.
      killTree(child);
      const pending = worker.current;
      if (pending) {
        this.finish(
          worker,
          failure(
            pending,
            "WorkerCrashed",
            `the worker running ${pending.job.kind} for ${pending.tenant} exited (${signal ?? `code ${code}`}); the next operation recovers the stack`,
          ),
        );
      }
      const index = this.workers.indexOf(worker);
      if (index >= 0 && !this.closed) {
        this.workers[index] = this.spawn();
        this.dispatch();
      }
    });
    return worker;
  }

  private sampleMemory(worker: Worker): void {
    const pid = worker.child.pid;
    if (pid === undefined) return;
    const rss = rssOfTree(pid);
    if (rss > (this.peakRss.get(pid) ?? 0)) this.peakRss.set(pid, rss);
  }
}

function killTree(child: ChildProcess): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, "SIGKILL");
  } catch {
    // The group is gone already.
  }
}

function failure(pending: Pending, kind: string, message: string): OperationResult {
  const operation = pending.job.kind === "apply" ? "up" : pending.job.kind;
  return {
    tenant: pending.tenant,
    operation: operation as OperationKind,
    status: "failed",
    changes: {},
    durationMs: 0,
    policyViolations: [],
    error: { kind, message },
  };
}

/** Resident memory of a process and its descendants (the pulumi CLI and its plugins), from /proc. */
export function rssOfTree(root: number): number {
  const children = new Map<number, number[]>();
  const rss = new Map<number, number>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      const ppid = Number(fields[1]);
      const pages = Number(fields[21]);
      const pid = Number(entry);
      rss.set(pid, pages * 4096);
      children.set(ppid, [...(children.get(ppid) ?? []), pid]);
    } catch {
      // The process ended while we looked.
    }
  }
  let total = 0;
  const stack = [root];
  while (stack.length > 0) {
    const pid = stack.pop() as number;
    total += rss.get(pid) ?? 0;
    stack.push(...(children.get(pid) ?? []));
  }
  return total;
}
