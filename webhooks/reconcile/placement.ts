/**
 * Which Dokku host a tenant lives on, and whether a change of plan still fits
 * there. A tenant keeps the host it was placed on (moving one is an operator's
 * `mindroom-ops move`, not a reconcile); a new one goes to the host of the pool
 * with the most free memory that still fits every process it runs
 * (components/tiers.ts `tenantFootprint`), among the hosts with the cores those
 * processes take. Free memory is the host's memory less the footprints of the
 * tenants placed on it. Pure: the worker supplies the pool and the placements.
 */

import type { KnownHost } from "../../components/hostPool.ts";
import type { Footprint } from "../../components/tiers.ts";

/** A tenant already on a host, with what its processes take (deleted tenants no longer count). */
export interface Placement {
  readonly host: string;
  readonly memoryMb: number;
  readonly cpus: number;
}

export interface PlacementInput {
  /** The hosts new tenants may go to (cordoned and draining hosts left out). */
  readonly pool: readonly KnownHost[];
  readonly placed: readonly Placement[];
  readonly demand: Pick<Footprint, "memoryMb" | "cpus">;
  /** The host the tenant is on already, if any. */
  readonly current: string | null;
}

export interface HostUsage {
  readonly url: string;
  readonly memoryMb: number;
  readonly cpus: number;
  readonly committedMemoryMb: number;
  readonly committedCpus: number;
  readonly freeMb: number;
}

/**
 * No host of the pool has room: the tenant waits ("waiting for capacity") and
 * provisions once a host is added or room frees up. `message` is for operators.
 */
export class NoCapacityError extends Error {
  override readonly name = "NoCapacityError";
  readonly neededMb: number;
  constructor(neededMb: number, cpus: number, free: readonly HostUsage[]) {
    super(
      free.length === 0
        ? "no Dokku host takes new tenants: add one (mindroom-ops hosts add, or DOKKU_HOSTS)"
        : `no Dokku host has ${neededMb} MB and ${cpus} CPU free (${free
            .map((h) => `${h.url}: ${h.freeMb} MB of ${h.memoryMb} MB free`)
            .join(", ")}): add a host or give one more memory`,
    );
    this.neededMb = neededMb;
  }
}

/** What each host of the pool has and what its tenants take. */
export function hostUsage(pool: readonly KnownHost[], placed: readonly Placement[]): HostUsage[] {
  return pool.map((host) => {
    const on = placed.filter((p) => p.host === host.url);
    const committedMemoryMb = on.reduce((sum, p) => sum + p.memoryMb, 0);
    return {
      url: host.url,
      memoryMb: host.memoryMb,
      cpus: host.cpus,
      committedMemoryMb,
      committedCpus: Math.round(on.reduce((sum, p) => sum + p.cpus, 0) * 100) / 100,
      freeMb: host.memoryMb - committedMemoryMb,
    };
  });
}

export function placeTenant(input: PlacementInput): string {
  if (input.current !== null) return input.current;
  const { memoryMb, cpus } = input.demand;
  const usage = hostUsage(input.pool, input.placed);
  // Most free memory first; ties keep the pool's order (a stable sort). A host
  // must have the cores the tenant's processes take (the policy pack insists).
  const best = usage
    .filter((h) => h.freeMb >= memoryMb && h.cpus >= cpus)
    .sort((a, b) => b.freeMb - a.freeMb)[0];
  if (!best) throw new NoCapacityError(memoryMb, cpus, usage);
  return best.url;
}

export type ResizeVerdict =
  | { readonly fits: true }
  | { readonly fits: false; readonly neededMb: number; readonly freeMb: number; readonly message: string };

/**
 * Whether the tenant, at a new footprint, still fits its host, the other
 * tenants there left as they are (a downgrade always fits). A tenant whose host
 * is no longer known fits nowhere.
 */
export function resizeFits(input: {
  readonly host: KnownHost | undefined;
  /** The other tenants on that host. */
  readonly others: readonly Placement[];
  readonly current: Pick<Footprint, "memoryMb" | "cpus">;
  readonly next: Pick<Footprint, "memoryMb" | "cpus">;
}): ResizeVerdict {
  const { host, others, current, next } = input;
  if (next.memoryMb <= current.memoryMb && next.cpus <= current.cpus) return { fits: true };
  if (!host) {
    return { fits: false, neededMb: next.memoryMb, freeMb: 0, message: "its host is no longer known" };
  }
  const [usage] = hostUsage([host], others) as [HostUsage];
  if (usage.freeMb >= next.memoryMb && host.cpus >= next.cpus) return { fits: true };
  return {
    fits: false,
    neededMb: next.memoryMb,
    freeMb: usage.freeMb,
    message: `${host.url} has ${usage.freeMb} MB of ${host.memoryMb} MB free besides this tenant, ${next.memoryMb} MB and ${next.cpus} CPU needed`,
  };
}
