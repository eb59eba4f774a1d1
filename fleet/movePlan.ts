/**
 * The decisions of moving a tenant to another Dokku host (`mindroom-ops move`),
 * pure: whether the move may start (refused before anything changes when the
 * target is unknown, is the tenant's host already, takes no tenants or has no
 * room by placement's rule), the steps a move takes in order and which are
 * left after a run that stopped part-way (its journal), and the checkpoint
 * that removes the tenant from its old host (only the old host's resources,
 * none retained). fleet/tenantMove.ts runs the steps.
 */
import { hostPort, type KnownHost } from "../components/hostPool.ts";
import { FINAL_BACKUP } from "../components/tenantNames.ts";
import { parseTenantSpec, type TenantSpec } from "../components/tenantSpec.ts";
import type { Footprint } from "../components/tiers.ts";
import { hostUsage, type Placement } from "../webhooks/reconcile/placement.ts";

/**
 * In order: a fresh backup on the old host (its apps left stopped: no write
 * after it is lost), the old stack's checkpoint saved, the spec pointed at the
 * new host and brought up there (DNS follows the host), the backup restored
 * there, the tenant removed from the old host.
 */
export const MOVE_STEPS = ["backup", "checkpoint", "switch", "restore", "cleanup"] as const;
export type MoveStep = (typeof MOVE_STEPS)[number];

/** A move in progress, persisted after every step so a re-run resumes where it stopped. */
export interface MoveJournal {
  readonly from: string;
  readonly to: string;
  /** The next step to run. */
  readonly step: MoveStep;
  /** The time naming the move's backup set, once taken. */
  readonly backupAt: Date | null;
  /** The old stack's checkpoint (`pulumi stack export`), once saved. */
  readonly checkpoint: Checkpoint | null;
}

/** A stack export: its `deployment` is what `pulumi stack import` takes back. */
export interface Checkpoint {
  readonly version: number;
  readonly deployment: Record<string, unknown>;
}

/** Why a move was refused: `unknownHost` is a host that is not there at all (the CLI's "not found"). */
export type MoveRefusal = "unknownHost" | "sameHost" | "noTenants" | "noRoom" | "otherMove";

/** The move may not start (or not with this target); nothing was changed. The message says why and what to do. */
export class MoveRefusedError extends Error {
  override readonly name = "MoveRefusedError";
  readonly refusal: MoveRefusal;
  constructor(refusal: MoveRefusal, message: string) {
    super(message);
    this.refusal = refusal;
  }
}

export interface MoveRequest {
  readonly slug: string;
  /** The tenant's host now (instances.host). */
  readonly current: string;
  /** The host asked for, as the operator wrote it. */
  readonly target: string;
  /** Every host with a pinned key. */
  readonly known: readonly KnownHost[];
  /** The hosts that take tenants (active, ready). */
  readonly schedulable: readonly KnownHost[];
  /** The other tenants and what they take. */
  readonly placed: readonly Placement[];
  /** What this tenant's processes take. */
  readonly demand: Pick<Footprint, "memoryMb" | "cpus">;
  /** A move of this tenant that stopped part-way, if any. */
  readonly unfinished: MoveJournal | null;
}

const same = (a: string, b: string) => (hostPort(a) ?? a) === (hostPort(b) ?? b);

/**
 * The host to move to, or MoveRefusedError. An unfinished move is resumed only
 * towards its own target (its refusals were passed when it started, and the
 * tenant's row already names the new host after the switch).
 */
export function moveTarget(request: MoveRequest): KnownHost {
  const { slug, target, unfinished } = request;
  const host = request.known.find((h) => same(h.url, target));
  if (unfinished) {
    if (!same(unfinished.to, target))
      throw new MoveRefusedError(
        "otherMove",
        `tenant ${slug} is being moved to ${unfinished.to} (stopped at its ${unfinished.step} step): run mindroom-ops move ${slug} ${unfinished.to} to finish that move first`,
      );
    if (!host)
      throw new MoveRefusedError(
        "unknownHost",
        `tenant ${slug} is being moved to ${unfinished.to}, which is no longer a known host: add it back with mindroom-ops hosts add`,
      );
    return host;
  }
  if (!host)
    throw new MoveRefusedError(
      "unknownHost",
      `${target} is not a known host (mindroom-ops hosts list shows them): add it first with mindroom-ops hosts add`,
    );
  if (same(host.url, request.current))
    throw new MoveRefusedError("sameHost", `tenant ${slug} is on ${host.url} already: nothing to move`);
  if (!request.schedulable.some((h) => h.url === host.url))
    throw new MoveRefusedError(
      "noTenants",
      `${host.url} takes no tenants (cordoned, draining, or its last check found it not ready): uncordon it or pick another host`,
    );
  const [usage] = hostUsage(
    [host],
    request.placed.filter((p) => p.host === host.url),
  );
  const free = usage?.freeMb ?? 0;
  if (free < request.demand.memoryMb || host.cpus < request.demand.cpus)
    throw new MoveRefusedError(
      "noRoom",
      `${host.url} has no room for tenant ${slug}: ${free} MB of ${host.memoryMb} MB and ${host.cpus} CPU free, ${request.demand.memoryMb} MB and ${request.demand.cpus} CPU needed`,
    );
  return host;
}

/**
 * The tenant's spec on another host: its connection (URL, pinned key), the
 * address its DNS record points at, and that host's proxying. Everything else
 * stays as it is.
 */
export function retarget(spec: TenantSpec, host: KnownHost, hostKey: string): TenantSpec {
  return parseTenantSpec({
    ...spec,
    host: { url: host.url, hostKey, address: host.address },
    dns: spec.dns.enabled ? { ...spec.dns, proxied: host.proxied } : spec.dns,
  });
}

/** The journal of a move about to start. */
export function startedMove(from: string, to: string): MoveJournal {
  return { from, to, step: "backup", backupAt: null, checkpoint: null };
}

/** The steps a run of this journal takes, in order. */
export function stepsLeft(journal: MoveJournal): MoveStep[] {
  return MOVE_STEPS.slice(MOVE_STEPS.indexOf(journal.step));
}

/** The step after `step`, or null when the move is done. */
export function nextStep(step: MoveStep): MoveStep | null {
  return MOVE_STEPS[MOVE_STEPS.indexOf(step) + 1] ?? null;
}

/** Resource types kept in the old host's checkpoint: what lives on the Dokku host. */
const HOST_TYPES = /^(command:|pulumi:pulumi:Stack$|pulumi:providers:command$|mindroom:)/;

interface StateResource {
  urn: string;
  type: string;
  parent?: string;
  provider?: string;
  dependencies?: string[];
  propertyDependencies?: Record<string, string[]>;
  deletedWith?: string;
  retainOnDelete?: boolean;
  [key: string]: unknown;
}

/**
 * The checkpoint that removes the tenant from its old host when destroyed:
 * only the resources on the Dokku host (remote commands, their components and
 * provider). The cloud resources (the DNS record, backup credentials) are the
 * ones the moved stack kept and updated: destroying them here would take them
 * from the tenant. Nor the final backup: the old host's data is stale once the
 * tenant runs on the new one, and a backup of it would become the newest.
 * Nothing is retained on delete: the data lives on the new host and in the
 * move's backup. Pending operations are dropped (the old stack
 * was idle under the tenant's lease when it was exported). Its URNs name the
 * stack that will hold it (`into`): an import refuses resources of another stack.
 */
export function oldHostCheckpoint(
  checkpoint: Checkpoint,
  stacks: { from: string; into: string },
): Checkpoint {
  const renamed = JSON.stringify(checkpoint.deployment).replaceAll(
    `"urn:pulumi:${stacks.from}::`,
    `"urn:pulumi:${stacks.into}::`,
  );
  const deployment = JSON.parse(renamed) as Record<string, unknown>;
  const resources = ((deployment.resources as StateResource[] | undefined) ?? []).filter(
    (r) => HOST_TYPES.test(r.type) && !r.urn.endsWith(`-${FINAL_BACKUP}`),
  );
  const kept = new Set(resources.map((r) => r.urn));
  const keep = (urns: readonly string[] | undefined) => (urns ?? []).filter((u) => kept.has(u));
  const providerKept = (ref: string | undefined) =>
    ref === undefined || kept.has(ref.split("::").slice(0, -1).join("::"));
  return {
    version: checkpoint.version,
    deployment: {
      ...deployment,
      pending_operations: [],
      resources: resources
        .filter((r) => providerKept(r.provider))
        .map(({ retainOnDelete: _retained, ...r }) => ({
          ...r,
          dependencies: keep(r.dependencies),
          ...(r.propertyDependencies
            ? {
                propertyDependencies: Object.fromEntries(
                  Object.entries(r.propertyDependencies).map(([k, v]) => [k, keep(v)]),
                ),
              }
            : {}),
          ...(r.parent !== undefined && !kept.has(r.parent) ? { parent: undefined } : {}),
          ...(r.deletedWith !== undefined && !kept.has(r.deletedWith) ? { deletedWith: undefined } : {}),
        })),
    },
  };
}
