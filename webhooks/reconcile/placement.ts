/**
 * Which Dokku host a tenant lives on. A tenant keeps the host it was placed on
 * (moving one is a migration, not a reconcile); a new one goes to the host of
 * the pool with the most free memory that still fits its tier, where free
 * memory is the host's memory less every placed tenant's tier memory, among
 * the hosts with at least as many cores as the tier's processes take.
 */

import type { KnownHost } from "../../components/hostPool.ts";
import { type TierId, tenantMemoryMb, tier } from "../../components/tiers.ts";

/** A tenant already on a host (deleted tenants no longer count). */
export interface Placement {
  readonly host: string;
  readonly tier: TierId;
}

export interface PlacementInput {
  readonly pool: readonly KnownHost[];
  readonly placed: readonly Placement[];
  readonly tier: TierId;
  /** The host the tenant is on already, if any. */
  readonly current: string | null;
}

/** No host of the pool has room for the tier: add a host (mindroom-ops hosts add) or give one more memory. */
export class NoCapacityError extends Error {
  override readonly name = "NoCapacityError";
  readonly tier: TierId;
  readonly neededMb: number;
  constructor(tierId: TierId, neededMb: number, free: readonly { url: string; freeMb: number }[]) {
    super(
      free.length === 0
        ? "no Dokku host takes new tenants: add one with mindroom-ops hosts add (or seed DOKKU_HOSTS)"
        : `no Dokku host has ${neededMb} MB free for a ${tierId} tenant (${free
            .map((h) => `${h.url}: ${h.freeMb} MB free`)
            .join(", ")}): add a host with mindroom-ops hosts add, or uncordon one`,
    );
    this.tier = tierId;
    this.neededMb = neededMb;
  }
}

export function freeMemoryMb(pool: readonly KnownHost[], placed: readonly Placement[]) {
  return pool.map((host) => ({
    url: host.url,
    freeMb:
      host.memoryMb -
      placed.filter((p) => p.host === host.url).reduce((sum, p) => sum + tenantMemoryMb(tier(p.tier)), 0),
  }));
}

export function placeTenant(input: PlacementInput): string {
  if (input.current !== null) return input.current;
  const plan = tier(input.tier);
  const needed = tenantMemoryMb(plan);
  // The policy pack refuses a tier whose processes together want more cores than the host has.
  const cpus = plan.runtime.cpus + plan.homeserver.cpus;
  const free = freeMemoryMb(input.pool, input.placed);
  const enoughCores = new Set(input.pool.filter((h) => h.cpus >= cpus).map((h) => h.url));
  // Most free memory first; ties keep the pool's order (a stable sort).
  const best = free
    .filter((h) => h.freeMb >= needed && enoughCores.has(h.url))
    .sort((a, b) => b.freeMb - a.freeMb)[0];
  if (!best) throw new NoCapacityError(input.tier, needed, free);
  return best.url;
}
