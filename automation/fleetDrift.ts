/**
 * Drift of many tenants at once (`mindroom-ops drift --all`, the scheduled
 * check). Checking tenants one by one costs a refresh preview, two pulumi
 * reads and an SSH session each; here every tenant's recorded resources come
 * from the stack checkpoints read in one pass (stackCheckpoints.ts), and the
 * read-only probes of every tenant on a host run in a few SSH sessions per host,
 * however many tenants it has (driftProbes.ts, hostShell.ts). A tenant whose host matches everything its
 * stack recorded is clean. A tenant where the batch found something, or cannot
 * decide (no readable checkpoint, an unfinished operation, a resource whose
 * provider a refresh could read back, a host that could not be reached), gets
 * the single-tenant drift under its lease: so every drift reported, and every
 * repair token recorded, comes from the same path as `drift <tenant>`.
 */
import { parseTenantSpec } from "../components/tenantSpec.ts";
import { driftProbes, findings, type Probe, type ProbeResult, type RecordedResource } from "./driftProbes.ts";
import { type HostAccess, runDokkuReads } from "./hostShell.ts";
import type { OperationResult } from "./operationResult.ts";
import type { StackCheckpoint } from "./stackCheckpoints.ts";

/** Where a tenant's probes run: its host as the stack last applied it. */
export interface ProbeHost {
  readonly url: string;
  readonly hostKey: string;
}

export type TenantDriftPlan =
  | {
      readonly tenant: string;
      readonly kind: "probe";
      readonly host: ProbeHost;
      readonly probes: readonly Probe[];
    }
  /** Nothing recorded on a host (a stack never brought up): nothing can have drifted. */
  | { readonly tenant: string; readonly kind: "clean" }
  | { readonly tenant: string; readonly kind: "undecided"; readonly why: string };

/**
 * Resource types whose whole state the host probes cover: the stack itself,
 * providers, our components, and remote commands (whose refresh reads nothing
 * back). Anything else (DNS records, buckets, credentials) has a provider a
 * refresh preview asks, which only the single-tenant drift runs.
 */
const PROBED_TYPES = [/^pulumi:pulumi:Stack$/, /^pulumi:providers:/, /^mindroom:/, /^command:/];

/** The tenant's host from its component's recorded spec; undefined when the checkpoint has none. */
function recordedHost(resources: readonly RecordedResource[]): ProbeHost | undefined {
  const tenant = resources.find((r) => r.type === "mindroom:index:MindRoomTenant");
  try {
    const { host } = parseTenantSpec(tenant?.inputs?.spec);
    return { url: host.url, hostKey: host.hostKey };
  } catch {
    return undefined;
  }
}

/** What the batch can do for one tenant, from its checkpoint alone. */
export function planTenantDrift(tenant: string, checkpoint: StackCheckpoint | undefined): TenantDriftPlan {
  const undecided = (why: string): TenantDriftPlan => ({ tenant, kind: "undecided", why });
  if (!checkpoint) return undecided("its checkpoint could not be read");
  if (checkpoint.pendingOperations > 0)
    return undecided(`${checkpoint.pendingOperations} operations in its state never finished`);
  const refreshable = checkpoint.resources.find((r) => !PROBED_TYPES.some((t) => t.test(r.type)));
  if (refreshable) return undecided(`${refreshable.type} needs a refresh`);
  const probes = driftProbes(checkpoint.resources);
  if (probes.length === 0) return { tenant, kind: "clean" };
  const host = recordedHost(checkpoint.resources);
  return host ? { tenant, kind: "probe", host, probes } : undecided("its checkpoint names no host");
}

export interface HostBatch {
  readonly host: ProbeHost;
  readonly tenants: readonly { readonly tenant: string; readonly probes: readonly Probe[] }[];
}

/** Tenants with something to probe, grouped by host (its url and pinned key). */
export function hostBatches(plans: readonly TenantDriftPlan[]): HostBatch[] {
  const byHost = new Map<
    string,
    { host: ProbeHost; tenants: { tenant: string; probes: readonly Probe[] }[] }
  >();
  for (const plan of plans) {
    if (plan.kind !== "probe") continue;
    const key = `${plan.host.url}\n${plan.host.hostKey}`;
    const batch = byHost.get(key) ?? { host: plan.host, tenants: [] };
    batch.tenants.push({ tenant: plan.tenant, probes: plan.probes });
    byHost.set(key, batch);
  }
  return [...byHost.values()];
}

/**
 * A host's tenants per session: up to {@link TENANTS_PER_SESSION} in one, and
 * never more than {@link SESSIONS_PER_HOST} sessions side by side (Dokku runs
 * commands for different apps at once), however many tenants the host has.
 */
export const TENANTS_PER_SESSION = 25;
export const SESSIONS_PER_HOST = 4;

/** The host's tenants split into its sessions, in order, as evenly as the bounds allow. */
export function sessionBatches(batch: HostBatch): HostBatch[] {
  const count = Math.min(SESSIONS_PER_HOST, Math.ceil(batch.tenants.length / TENANTS_PER_SESSION));
  const size = Math.ceil(batch.tenants.length / count);
  return Array.from({ length: count }, (_, i) => ({
    host: batch.host,
    tenants: batch.tenants.slice(i * size, (i + 1) * size),
  })).filter((b) => b.tenants.length > 0);
}

/** How long one session may take: a base plus a second per command (a slow host answers slowly, a hung one never). */
const sessionTimeoutMs = (commands: number) => 120_000 + commands * 1_000;

/** Each tenant's drift from the results of its session (the commands in batch order). */
export function batchFindings(batch: HostBatch, results: readonly ProbeResult[]) {
  let at = 0;
  return batch.tenants.map(({ tenant, probes }) => {
    const own = results.slice(at, at + probes.length);
    at += probes.length;
    return { tenant, drift: findings(probes, own) };
  });
}

/** A clean tenant's drift result, shaped as the single-tenant drift answers when it finds nothing. */
export function cleanResult(tenant: string, durationMs: number): OperationResult {
  return {
    tenant,
    operation: "drift",
    status: "succeeded",
    changes: {},
    durationMs,
    policyViolations: [],
    steps: [],
    drift: [],
  };
}

export interface BatchedDrift {
  /** Tenants whose hosts match everything their stacks recorded, each with its result. */
  readonly clean: ReadonlyMap<string, OperationResult>;
  /** Tenants the batch found drift on or could not decide: each needs the single-tenant drift. */
  readonly undecided: readonly string[];
  /** SSH sessions the batch opened: per host one for every {@link TENANTS_PER_SESSION} tenants, at most {@link SESSIONS_PER_HOST}. */
  readonly sessions: number;
}

export interface BatchedDriftDeps {
  /** Every stack's checkpoint (stackCheckpoints.ts); `undefined`: the backend cannot be read directly. */
  readonly checkpoints: ReadonlyMap<string, StackCheckpoint | undefined> | undefined;
  /** The platform's key for its Dokku hosts. */
  readonly privateKey: string;
  /** Runs read-only Dokku commands in one session (hostShell.ts's runDokkuReads). */
  readonly reads?: (
    access: HostAccess,
    commands: readonly string[],
    options: { timeoutMs: number },
  ) => Promise<ProbeResult[]>;
  /** Called for each tenant as the batch finds it clean. */
  readonly onClean?: (result: OperationResult) => void;
}

/**
 * The batched check of `tenants`: hosts, and a host's sessions, probed side
 * by side. Never throws for a host: a host that cannot be reached leaves its
 * tenants undecided.
 */
export async function batchedDrift(
  tenants: readonly string[],
  deps: BatchedDriftDeps,
): Promise<BatchedDrift> {
  const started = Date.now();
  const reads = deps.reads ?? runDokkuReads;
  const plans = tenants.map((t) => planTenantDrift(t, deps.checkpoints?.get(t)));
  const clean = new Map<string, OperationResult>();
  const settleClean = (tenant: string) => {
    const result = cleanResult(tenant, Date.now() - started);
    clean.set(tenant, result);
    deps.onClean?.(result);
  };
  for (const plan of plans) if (plan.kind === "clean") settleClean(plan.tenant);
  const batches = hostBatches(plans).flatMap(sessionBatches);
  await Promise.all(
    batches.map(async (batch) => {
      const commands = batch.tenants.flatMap((t) => t.probes.map((p) => p.command));
      // A host that cannot be reached: its tenants' single-tenant drift reports why.
      const results = await reads({ ...batch.host, privateKey: deps.privateKey }, commands, {
        timeoutMs: sessionTimeoutMs(commands.length),
      }).catch(() => undefined);
      for (const { tenant, drift } of results ? batchFindings(batch, results) : [])
        if (drift.length === 0) settleClean(tenant);
    }),
  );
  return {
    clean,
    undecided: tenants.filter((t) => !clean.has(t)),
    sessions: batches.length,
  };
}
