/**
 * The tier catalog: the one place that says what each plan gets. Components size
 * Dokku apps from it, policies check tenants against it, the portal shows it and
 * the docs quote it. Business limits come from the business plan; memory and CPU
 * are ours to choose.
 */

export const TIER_IDS = ["free", "starter", "professional", "enterprise"] as const;
export type TierId = (typeof TIER_IDS)[number];

/** A limit the plan does not cap. */
export const UNLIMITED = "unlimited";
export type Limit = number | typeof UNLIMITED;

/** Docker resources for one process, as Dokku's `resource:limit`/`resource:reserve` take them. */
export interface ProcessResources {
  /** Hard memory limit, MB. */
  readonly memoryMb: number;
  /** CPU limit, in cores (`--cpus`). */
  readonly cpus: number;
  /** Memory reservation, MB (`--memory-reservation`, a soft floor the scheduler keeps free). */
  readonly reserveMemoryMb: number;
}

export interface Tier {
  readonly id: TierId;
  readonly label: string;
  /** Monthly price in US cents; `null` for custom (sales-negotiated) pricing. */
  readonly monthlyPriceCents: number | null;
  readonly agents: Limit;
  readonly messagesPerDay: Limit;
  readonly storageGb: Limit;
  readonly support: "community" | "email" | "priority" | "dedicated";
  /** The MindRoom runtime (agents, dashboard, API). */
  readonly runtime: ProcessResources;
  /** The Matrix homeserver. */
  readonly homeserver: ProcessResources;
  /** The storage backup job (runs only when the tenant has backups). */
  readonly backupJob: ProcessResources;
}

/** The backup job archives and uploads storage; its needs do not grow with the plan. */
const BACKUP_JOB: ProcessResources = { memoryMb: 256, cpus: 0.25, reserveMemoryMb: 64 };

export const TIERS: { readonly [K in TierId]: Tier & { readonly id: K } } = {
  free: {
    id: "free",
    label: "Free",
    monthlyPriceCents: 0,
    agents: 1,
    messagesPerDay: 100,
    storageGb: 1,
    support: "community",
    runtime: { memoryMb: 512, cpus: 0.5, reserveMemoryMb: 256 },
    homeserver: { memoryMb: 256, cpus: 0.25, reserveMemoryMb: 128 },
    backupJob: BACKUP_JOB,
  },
  starter: {
    id: "starter",
    label: "Starter",
    monthlyPriceCents: 4900,
    agents: 3,
    messagesPerDay: 1000,
    storageGb: 10,
    support: "email",
    runtime: { memoryMb: 1024, cpus: 1, reserveMemoryMb: 512 },
    homeserver: { memoryMb: 512, cpus: 0.5, reserveMemoryMb: 256 },
    backupJob: BACKUP_JOB,
  },
  professional: {
    id: "professional",
    label: "Professional",
    monthlyPriceCents: 19900,
    agents: 10,
    messagesPerDay: 10000,
    storageGb: 100,
    support: "priority",
    runtime: { memoryMb: 4096, cpus: 2, reserveMemoryMb: 2048 },
    homeserver: { memoryMb: 1024, cpus: 1, reserveMemoryMb: 512 },
    backupJob: BACKUP_JOB,
  },
  enterprise: {
    id: "enterprise",
    label: "Enterprise",
    monthlyPriceCents: null,
    agents: UNLIMITED,
    messagesPerDay: UNLIMITED,
    storageGb: UNLIMITED,
    support: "dedicated",
    runtime: { memoryMb: 8192, cpus: 4, reserveMemoryMb: 4096 },
    homeserver: { memoryMb: 2048, cpus: 2, reserveMemoryMb: 1024 },
    backupJob: BACKUP_JOB,
  },
};

export function isTierId(value: string): value is TierId {
  return (TIER_IDS as readonly string[]).includes(value);
}

export function tier(id: TierId): Tier {
  return TIERS[id];
}

/** Memory a tenant of this tier may use at most, all its processes together (MB). */
export function tenantMemoryMb(t: Tier): number {
  return t.runtime.memoryMb + t.homeserver.memoryMb;
}
