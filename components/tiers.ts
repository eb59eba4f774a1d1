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
  /** Matrix bridges (components/bridges.ts) the tenant may run at once. */
  readonly bridges: Limit;
  readonly support: "community" | "email" | "priority" | "dedicated";
  /** The MindRoom runtime (agents, dashboard, API). */
  readonly runtime: ProcessResources;
  /** The Matrix homeserver. */
  readonly homeserver: ProcessResources;
  /** The storage backup job (runs only when the tenant has backups). */
  readonly backupJob: ProcessResources;
  /** The homeserver's Postgres and Redis services (only with Synapse). */
  readonly postgres: ProcessResources;
  readonly redis: ProcessResources;
  /** Each Matrix bridge's app. */
  readonly bridge: ProcessResources;
}

/** The backup job archives and uploads storage; its needs do not grow with the plan. */
const BACKUP_JOB: ProcessResources = { memoryMb: 256, cpus: 0.25, reserveMemoryMb: 64 };
/** A mautrix bridge is one small process; neither does it. */
const BRIDGE_APP: ProcessResources = { memoryMb: 256, cpus: 0.25, reserveMemoryMb: 64 };

export const TIERS: { readonly [K in TierId]: Tier & { readonly id: K } } = {
  free: {
    id: "free",
    label: "Free",
    monthlyPriceCents: 0,
    agents: 1,
    messagesPerDay: 100,
    storageGb: 1,
    bridges: 0,
    support: "community",
    runtime: { memoryMb: 512, cpus: 0.5, reserveMemoryMb: 256 },
    homeserver: { memoryMb: 256, cpus: 0.25, reserveMemoryMb: 128 },
    backupJob: BACKUP_JOB,
    postgres: { memoryMb: 256, cpus: 0.25, reserveMemoryMb: 128 },
    redis: { memoryMb: 64, cpus: 0.1, reserveMemoryMb: 32 },
    bridge: BRIDGE_APP,
  },
  starter: {
    id: "starter",
    label: "Starter",
    monthlyPriceCents: 4900,
    agents: 3,
    messagesPerDay: 1000,
    storageGb: 10,
    bridges: 1,
    support: "email",
    runtime: { memoryMb: 1024, cpus: 1, reserveMemoryMb: 512 },
    homeserver: { memoryMb: 512, cpus: 0.5, reserveMemoryMb: 256 },
    backupJob: BACKUP_JOB,
    postgres: { memoryMb: 512, cpus: 0.5, reserveMemoryMb: 256 },
    redis: { memoryMb: 128, cpus: 0.1, reserveMemoryMb: 64 },
    bridge: BRIDGE_APP,
  },
  professional: {
    id: "professional",
    label: "Professional",
    monthlyPriceCents: 19900,
    agents: 10,
    messagesPerDay: 10000,
    storageGb: 100,
    bridges: 4,
    support: "priority",
    runtime: { memoryMb: 4096, cpus: 2, reserveMemoryMb: 2048 },
    homeserver: { memoryMb: 1024, cpus: 1, reserveMemoryMb: 512 },
    backupJob: BACKUP_JOB,
    postgres: { memoryMb: 1024, cpus: 1, reserveMemoryMb: 512 },
    redis: { memoryMb: 256, cpus: 0.25, reserveMemoryMb: 128 },
    bridge: BRIDGE_APP,
  },
  enterprise: {
    id: "enterprise",
    label: "Enterprise",
    monthlyPriceCents: null,
    agents: UNLIMITED,
    messagesPerDay: UNLIMITED,
    storageGb: UNLIMITED,
    bridges: UNLIMITED,
    support: "dedicated",
    runtime: { memoryMb: 8192, cpus: 4, reserveMemoryMb: 4096 },
    homeserver: { memoryMb: 2048, cpus: 2, reserveMemoryMb: 1024 },
    backupJob: BACKUP_JOB,
    postgres: { memoryMb: 2048, cpus: 2, reserveMemoryMb: 1024 },
    redis: { memoryMb: 512, cpus: 0.5, reserveMemoryMb: 256 },
    bridge: BRIDGE_APP,
  },
};

export function isTierId(value: string): value is TierId {
  return (TIER_IDS as readonly string[]).includes(value);
}

export function tier(id: TierId): Tier {
  return TIERS[id];
}

/** What decides which processes a tenant runs, besides its tier. */
export interface TenantShape {
  readonly tier: TierId;
  readonly homeserver: "tuwunel" | "synapse";
  /** The storage backup job runs beside the apps. */
  readonly backups: boolean;
  /** Matrix bridges it runs (each its own app). */
  readonly bridges?: number;
}

/** Every process a tenant runs, and what they may use together at their limits. */
export interface Footprint {
  readonly processes: readonly { readonly role: string; readonly resources: ProcessResources }[];
  readonly memoryMb: number;
  readonly cpus: number;
}

/**
 * What a tenant takes from its host: the runtime, the homeserver, the backup
 * job when it has backups, its Matrix bridges, and the homeserver's databases with Synapse.
 * Placement, the capacity checks and the policy pack all count with this.
 */
export function tenantFootprint(shape: TenantShape): Footprint {
  const t = tier(shape.tier);
  const processes = [
    { role: "runtime", resources: t.runtime },
    { role: "homeserver", resources: t.homeserver },
    ...(shape.backups ? [{ role: "backupJob", resources: t.backupJob }] : []),
    ...Array.from({ length: shape.bridges ?? 0 }, () => ({ role: "bridge", resources: t.bridge })),
    ...(shape.homeserver === "synapse"
      ? [
          { role: "postgres", resources: t.postgres },
          { role: "redis", resources: t.redis },
        ]
      : []),
  ];
  return {
    processes,
    memoryMb: processes.reduce((sum, p) => sum + p.resources.memoryMb, 0),
    // Rounded to hundredths: fractional CPUs must not add up to 0.30000000000000004.
    cpus: Math.round(processes.reduce((sum, p) => sum + p.resources.cpus, 0) * 100) / 100,
  };
}

/** A tier's storage quota in bytes (its `storageGb`, binary gigabytes as the portal shows them). */
export function storageQuotaBytes(t: Pick<Tier, "storageGb">): Limit {
  return t.storageGb === UNLIMITED ? UNLIMITED : t.storageGb * 1024 ** 3;
}

/** Whether `count` is within `limit`. */
export function withinLimit(count: number, limit: Limit): boolean {
  return limit === UNLIMITED || count <= limit;
}
