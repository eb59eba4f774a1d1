/**
 * A bounded pool of worker processes running tenant operations. A crash or a
 * hang in one tenant's operation takes down only its worker, which is replaced;
 * the caller gets a typed failure. Operations on one tenant are queued here so
 * they never occupy two workers, and each runs under the tenant's lease
 * (tenantLease.ts), the guard across processes and machines: the caller's, or
 * one the pool takes for it. A worker whose lease is lost is cancelled at once
 * and killed soon after, before the lease can expire and another machine take
 * the tenant.
 */
import { join } from "node:path";
import type { TenantSpecInput } from "../../components/tenantSpec.ts";
import { allProcesses, descendantsOf } from "../../processes/procfs.ts";
import { type Supervised, supervise } from "../../processes/supervisor.ts";
import type { OperationKind, OperationResult } from "../operationResult.ts";
import type { ProgressEvent } from "../progress.ts";
import { type AutomationSettings, operationDeadlineMs } from "../settings.ts";
import type { TenantLease, TenantLeases } from "../tenantLease.ts";
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
  /** The caller's lease; without one the pool takes the tenant's lease itself. */
  readonly lease: TenantLease | undefined;
  readonly leaseWaitMs: number;
  resolve(result: OperationResult): void;
}

interface Worker {
  readonly process: Supervised;
  current: Pending | undefined;
  /** The lease the current operation runs under, and whether the pool took it (and releases it). */
  lease: { readonly lease: TenantLease; readonly own: boolean } | undefined;
  timer: NodeJS.Timeout | undefined;
  sampler: NodeJS.Timeout | undefined;
  /** Kills the worker a little after its lease was lost, if the cancel did not end it. */
  fence: NodeJS.Timeout | undefined;
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
  /** The tenant's lease, held by the caller (who renews and releases it); else the pool takes one. */
  readonly lease?: TenantLease;
  /** Without `lease`: how long to wait for another holder of the tenant (default 0: fail at once, naming it). */
  readonly leaseWaitMs?: number;
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
  private readonly leases: TenantLeases;
  private nextId = 1;
  private closed = false;
  /** Peak resident memory seen per worker pid, in bytes (sampled while busy). */
  readonly peakRss = new Map<number, number>();

  constructor(
    settings: AutomationSettings,
    policy: PolicyPackOptions | undefined,
    leases: TenantLeases,
    size = settings.poolSize,
  ) {
    this.settings = settings;
    this.policy = policy;
    this.leases = leases;
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

  /** The pid of the worker process running an operation for `tenant`, if one is. */
  workerPid(tenant: string): number | undefined {
    const worker = this.workers.find((w) => w.current?.tenant === tenant);
    return worker?.process.programPid();
  }

  /**
   * Stops taking work, lets running operations finish (for at most `graceMs`, when given: then
   * their workers are killed and the operations fail as interrupted, for the next one to recover),
   * then ends the workers.
   */
  async close(options: { readonly graceMs?: number } = {}): Promise<void> {
    this.closed = true;
    const deadline = Date.now() + (options.graceMs ?? Number.POSITIVE_INFINITY);
    while ((this.queue.length > 0 || this.workers.some((w) => w.current)) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 100));
    await Promise.all(this.workers.map((w) => w.process.kill()));
  }

  private submit(input: JobInput, tenant: string, options: RunOptions = {}): Promise<OperationResult> {
    if (this.closed) throw new Error("the worker pool is closed");
    return new Promise((resolve) => {
      const job = {
        ...input,
        ...(options.policy ? { policy: options.policy } : {}),
        ...(options.onProgress ? { progress: true } : {}),
        id: this.nextId++,
      } as Job;
      this.queue.push({
        job,
        tenant,
        onProgress: options.onProgress,
        signal: options.signal,
        lease: options.lease,
        leaseWaitMs: options.leaseWaitMs ?? 0,
        resolve,
      });
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

  /** Reserves the worker, then runs the job once the tenant's lease is held. */
  private start(worker: Worker, pending: Pending): void {
    worker.current = pending;
    this.busyTenants.add(pending.tenant);
    const leased = pending.lease
      ? Promise.resolve({ lease: pending.lease, own: false })
      : this.leases
          .acquire(pending.tenant, pending.job.kind, { waitMs: pending.leaseWaitMs, signal: pending.signal })
          .then((lease) => ({ lease, own: true }));
    leased.then(
      (held) => {
        if (worker.current === pending) this.runLeased(worker, pending, held);
        else if (held.own) void held.lease.release();
      },
      (error: Error) => this.finish(worker, failure(pending, error.name, error.message)),
    );
  }

  private runLeased(worker: Worker, pending: Pending, held: { lease: TenantLease; own: boolean }): void {
    worker.lease = held;
    // The worker's own timeout cancels the engine gracefully; this one catches a worker that hangs anyway.
    worker.timer = setTimeout(() => void worker.process.kill(), operationDeadlineMs(this.settings));
    worker.sampler = setInterval(() => this.sampleMemory(worker), SAMPLE_MS);
    const cancel = () =>
      worker.current === pending &&
      worker.process.child.send({ id: this.nextId++, kind: "cancel", target: pending.job.id });
    pending.signal?.addEventListener("abort", cancel, { once: true });
    // A lost lease: cancel now, kill the worker (and its pulumi) well before the lease can expire.
    const fence = () => {
      if (worker.current !== pending) return;
      cancel();
      worker.fence = setTimeout(() => void worker.process.kill(), this.leases.timings.renewEveryMs);
    };
    if (held.lease.lost.aborted) fence();
    else held.lease.lost.addEventListener("abort", fence, { once: true });
    worker.process.child.send({ ...pending.job, lease: held.lease.holder });
    // Cancelled while it waited in the queue: the worker ends it before the engine starts.
    if (pending.signal?.aborted)
      worker.process.child.send({ id: this.nextId++, kind: "cancel", target: pending.job.id });
  }

  private finish(worker: Worker, result: OperationResult): void {
    const pending = worker.current;
    if (!pending) return;
    clearTimeout(worker.timer);
    clearInterval(worker.sampler);
    clearTimeout(worker.fence);
    const held = worker.lease;
    worker.current = undefined;
    worker.lease = undefined;
    this.sampleMemory(worker);
    const lost = held?.lease.lost.aborted ? (held.lease.lost.reason as Error) : undefined;
    // The operation is over once its lease is given back: the caller hears of it only then, so
    // whatever it runs next for the tenant, here or on another machine, can take the lease.
    const freed = held?.own ? held.lease.release() : Promise.resolve();
    void freed.finally(() => {
      // Whatever the worker reported, the operation was stopped because its lease was lost.
      pending.resolve(
        lost && result.status !== "succeeded"
          ? { ...result, status: "failed", error: { kind: lost.name, message: lost.message } }
          : result,
      );
      this.busyTenants.delete(pending.tenant);
      this.dispatch();
    });
    this.dispatch();
  }

  private spawn(): Worker {
    // Supervised: the worker, its pulumi CLI and the engine's plugins die with the pool's process
    // and with the worker, whatever kills either.
    const supervised = supervise("worker", process.execPath, [...process.execArgv, WORKER], {
      stdio: ["ignore", "inherit", "inherit", "ipc"],
      stopSignal: "SIGKILL",
    });
    supervised.child.send({ kind: "init", settings: this.settings, policy: this.policy });
    const worker: Worker = {
      process: supervised,
      current: undefined,
      lease: undefined,
      timer: undefined,
      sampler: undefined,
      fence: undefined,
    };
    supervised.child.on("message", (reply: WorkReply) => {
      const pending = worker.current;
      if (!pending || reply.id !== pending.job.id) return;
      if (reply.type === "progress") pending.onProgress?.(reply.event);
      else if (reply.type === "result") this.finish(worker, reply.result);
      else this.finish(worker, failure(pending, reply.error.kind, reply.error.message));
    });
    // By now its tether has killed whatever the worker started (pulumi, plugins), so nothing holds the stack's lock.
    void supervised.exited.then(({ code, signal }) => {
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
    const pid = worker.process.pid;
    const rss = rssOfTree(pid);
    if (rss > (this.peakRss.get(pid) ?? 0)) this.peakRss.set(pid, rss);
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
  const processes = allProcesses();
  const tree = [...processes.filter((p) => p.pid === root), ...descendantsOf(root, processes)];
  return tree.reduce((sum, p) => sum + p.rssBytes, 0);
}
