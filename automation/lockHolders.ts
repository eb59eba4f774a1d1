/**
 * Whether the holder of a Pulumi stack lock (stackLocks.ts) is gone, so the
 * lock may be removed. A pulumi process killed mid-update leaves its lock
 * behind and every later operation on the stack fails until it is removed;
 * removing a live holder's lock would let two updates run at once. A pid alone
 * means nothing on another machine, so:
 * - written on this machine: its process exists or not (`/proc`);
 * - written on another machine during a tenure of the tenant's lease that has
 *   ended (tenantLease.ts): gone, because every pulumi process of ours runs
 *   under the lease, and a holder stops its work before its lease can expire;
 * - anything else (unreadable, or a person's `pulumi up` from a laptop): live,
 *   never removed.
 */
import type { StackLock } from "./stackLocks.ts";
import type { Tenure } from "./tenantLease.ts";

export type LockVerdict =
  | { readonly holder: "gone"; readonly why: string }
  | { readonly holder: "live"; readonly why: string };

/** Clock difference tolerated between the machine that wrote a lock and the database. */
const SKEW_MS = 5 * 60_000;

export function judgeLock(
  lock: StackLock,
  context: {
    readonly thisHost: string;
    readonly processAlive: (pid: number) => boolean;
    /** The tenant's tenures, the current one (ours) included. */
    readonly tenures: readonly Tenure[];
  },
): LockVerdict {
  const { pid, hostname, timestamp } = lock;
  if (pid === undefined || hostname === undefined)
    return { holder: "live", why: "an unreadable lock (its holder is unknown)" };
  if (hostname === context.thisHost) {
    return context.processAlive(pid)
      ? { holder: "live", why: `pid ${pid} on this machine is running` }
      : { holder: "gone", why: `pid ${pid} on this machine no longer exists` };
  }
  const t = timestamp?.getTime();
  const tenure =
    t === undefined
      ? undefined
      : context.tenures.find(
          (x) =>
            x.host === hostname &&
            t >= x.acquiredAt.getTime() - SKEW_MS &&
            t <= (x.releasedAt ?? x.expiresAt).getTime() + SKEW_MS,
        );
  if (!tenure) return { holder: "live", why: `written on ${hostname} outside any lease of ours` };
  if (tenure.live)
    return { holder: "live", why: `written during lease ${tenure.holder} on ${hostname}, still held` };
  return {
    holder: "gone",
    why: `written on ${hostname} during lease ${tenure.holder} (${tenure.operation}), which has ended`,
  };
}
