/**
 * Capacity as a reconcile meets it. A new tenant that no host has room for
 * waits ("waiting for capacity", shown to its customer, alerted to operators)
 * instead of failing: nothing is dead-lettered, and the capacity retry
 * (webhooks/capacityRetry.ts) reconciles it again until a host has room. A
 * change of plan that its host cannot hold is refused before anything changes:
 * the tenant keeps its current plan, and customer and operators are told why.
 * Both are recorded on the instance (`blocked_reason`) and audited once.
 */
import type pg from "pg";
import type { KnownHost } from "../../components/hostPool.ts";
import { isTierId, type TenantShape, type TierId, tenantFootprint, tier } from "../../components/tiers.ts";
import { audit } from "../../database/auditLog.ts";
import type { Queryable } from "../../database/connection.ts";
import { type Instance, recordActual, updateDesired } from "../../database/instances.ts";
import { transaction } from "../../database/transaction.ts";
import type { Wanted } from "./jobDecisions.ts";
import { NoCapacityError, placeTenant, resizeFits } from "./placement.ts";
import { placedInstances } from "./store.ts";

/** What the customer reads while their new tenant waits for a host. */
export const WAITING_FOR_CAPACITY =
  "Waiting for capacity: every server is full right now. Your instance starts by itself as soon as one has room; there is nothing you need to do, and our operators have been alerted.";

/** What the customer reads when their change of plan does not fit their server. */
export function upgradeRefusedMessage(from: TierId, to: TierId): string {
  return `Your change to ${tier(to).label} was not applied: the server your instance runs on has no room for it. Your instance keeps running on ${tier(from).label}, unchanged; our operators have been alerted and will move it to a server with room.`;
}

/**
 * The shape of the tenants the platform makes (tenantSpecFor.ts): the homeserver
 * new tenants get, and the backup job when backups are configured.
 */
export function platformShape(settings: {
  readonly backup: unknown;
  readonly homeserver?: "tuwunel" | "synapse";
}): (tierId: TierId) => TenantShape {
  return (tierId) => ({
    tier: tierId,
    homeserver: settings.homeserver ?? "tuwunel",
    backups: settings.backup !== undefined,
  });
}

async function blockOnce(
  db: Queryable,
  instance: Instance,
  blocked: { reason: string; action: string; detail: string; details?: Record<string, unknown> },
): Promise<Instance> {
  const updated = await updateDesired(db, instance.id, { blockedReason: blocked.reason });
  if (instance.blockedReason !== blocked.reason) {
    await audit(db, {
      actor: "worker",
      customerId: instance.customerId,
      instanceId: instance.id,
      action: blocked.action,
      reason: blocked.detail,
      details: blocked.details ?? null,
    });
  }
  return updated;
}

export type Placed =
  | { readonly placed: true; readonly instance: Instance }
  | { readonly placed: false; readonly instance: Instance; readonly detail: string };

/**
 * Places a new tenant on the pool's roomiest host, under a lock so two new
 * tenants never both take a host's last room; or records that it waits.
 */
export async function placeOrWait(
  pool: pg.Pool,
  instance: Instance,
  shape: TenantShape,
  hosts: readonly KnownHost[],
): Promise<Placed> {
  return transaction(pool, async (tx) => {
    await tx.query("select pg_advisory_xact_lock(hashtext('mindroom:placement'))");
    const placed = await placedInstances(tx, instance.id);
    try {
      const host = placeTenant({ pool: hosts, placed, demand: tenantFootprint(shape), current: null });
      const row = await updateDesired(tx, instance.id, { host, blockedReason: null });
      if (instance.blockedReason !== null) {
        await audit(tx, {
          actor: "worker",
          customerId: instance.customerId,
          instanceId: instance.id,
          action: "instance.capacity_found",
          reason: `placed on ${host}`,
          details: { host },
        });
      }
      return { placed: true, instance: row };
    } catch (error) {
      if (!(error instanceof NoCapacityError)) throw error;
      const waiting = await blockOnce(tx, instance, {
        reason: WAITING_FOR_CAPACITY,
        action: "instance.waiting_for_capacity",
        detail: error.message,
        details: { neededMb: error.neededMb, tier: shape.tier },
      });
      const row = await recordActual(tx, instance.id, { actualState: "waiting_for_capacity" });
      return {
        placed: false,
        instance: { ...row, blockedReason: waiting.blockedReason },
        detail: error.message,
      };
    }
  });
}

/** The plan the tenant runs now, from its stack outputs (null before its first up). */
function appliedTier(instance: Instance): TierId | null {
  const value = instance.outputs?.tier;
  return typeof value === "string" && isTierId(value) ? value : null;
}

export type Resized =
  | { readonly tier: TierId; readonly refused: false; readonly instance: Instance }
  | { readonly tier: TierId; readonly refused: true; readonly instance: Instance; readonly detail: string };

/**
 * The plan to apply: the desired one when the tenant's host holds it, else the
 * one it runs now (refused, recorded, audited once). A tenant never provisioned
 * is placed by `placeOrWait` instead.
 */
export async function planThatFits(
  pool: pg.Pool,
  instance: Instance,
  desired: Wanted,
  shape: (tierId: TierId) => TenantShape,
  hosts: readonly KnownHost[],
): Promise<Resized> {
  const current = appliedTier(instance);
  const unblock = async () =>
    instance.blockedReason === null ? instance : updateDesired(pool, instance.id, { blockedReason: null });
  if (current === null || current === desired.tier || desired.state === "deleted")
    return { tier: desired.tier, refused: false, instance: await unblock() };
  const others = await placedInstances(pool, instance.id);
  const verdict = resizeFits({
    host: hosts.find((h) => h.url === instance.host),
    others: others.filter((p) => p.host === instance.host),
    current: tenantFootprint(shape(current)),
    next: tenantFootprint(shape(desired.tier)),
  });
  if (verdict.fits) return { tier: desired.tier, refused: false, instance: await unblock() };
  const detail = `upgrade of ${instance.slug} from ${current} to ${desired.tier} refused: ${verdict.message}`;
  const row = await blockOnce(pool, instance, {
    reason: upgradeRefusedMessage(current, desired.tier),
    action: "instance.upgrade_refused",
    detail,
    details: { from: current, to: desired.tier, neededMb: verdict.neededMb, freeMb: verdict.freeMb },
  });
  return { tier: current, refused: true, instance: row, detail };
}
