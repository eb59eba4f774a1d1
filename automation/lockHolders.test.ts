/**
 * Who holds a Pulumi lock, case by case: this machine's process table for its
 * own locks, the tenant's lease tenures for another machine's, live otherwise.
 */
import { describe, expect, it } from "vitest";
import { judgeLock } from "./lockHolders.ts";
import type { StackLock } from "./stackLocks.ts";
import type { Tenure } from "./tenantLease.ts";

const at = (iso: string) => new Date(iso);
const lock = (over: Partial<StackLock>): StackLock => ({
  pid: 100,
  hostname: "control-2",
  timestamp: at("2026-12-01T10:05:00Z"),
  ...over,
});
const tenure = (over: Partial<Tenure>): Tenure => ({
  holder: "h-1",
  tenant: "acme",
  operation: "up",
  host: "control-2",
  pid: 42,
  acquiredAt: at("2026-12-01T10:00:00Z"),
  expiresAt: at("2026-12-01T10:10:00Z"),
  releasedAt: at("2026-12-01T10:10:00Z"),
  live: false,
  ...over,
});
const context = (tenures: Tenure[], alive: number[] = []) => ({
  thisHost: "control-1",
  processAlive: (pid: number) => alive.includes(pid),
  tenures,
});

describe("judgeLock", () => {
  it("asks this machine's process table about locks written here", () => {
    expect(judgeLock(lock({ hostname: "control-1", pid: 7 }), context([], [7])).holder).toBe("live");
    expect(judgeLock(lock({ hostname: "control-1", pid: 7 }), context([], [])).holder).toBe("gone");
    // Even inside an ended tenure: the process table is the truth here.
    expect(
      judgeLock(lock({ hostname: "control-1", pid: 7 }), context([tenure({ host: "control-1" })], [7]))
        .holder,
    ).toBe("live");
  });

  it("judges another machine's lock by the lease it was written under", () => {
    // Written during a tenure on that machine that has ended: its holder is gone.
    expect(judgeLock(lock({}), context([tenure({})])).holder).toBe("gone");
    // The tenure is still held: live.
    expect(judgeLock(lock({}), context([tenure({ live: true, releasedAt: null })])).holder).toBe("live");
    // A tenure of another machine does not vouch for this one.
    expect(judgeLock(lock({}), context([tenure({ host: "control-3" })])).holder).toBe("live");
    // Written long after the tenure ended (beyond clock skew): not ours, live.
    expect(judgeLock(lock({ timestamp: at("2026-12-01T11:00:00Z") }), context([tenure({})])).holder).toBe(
      "live",
    );
    // A few minutes of clock difference between that machine and the database are tolerated.
    expect(judgeLock(lock({ timestamp: at("2026-12-01T09:57:00Z") }), context([tenure({})])).holder).toBe(
      "gone",
    );
  });

  it("keeps a lock it cannot read, or one without a time, whatever the tenures say", () => {
    expect(judgeLock({}, context([tenure({})]))).toEqual({
      holder: "live",
      why: "an unreadable lock (its holder is unknown)",
    });
    expect(judgeLock({ pid: 100, hostname: "control-2" }, context([tenure({})])).holder).toBe("live");
  });

  it("keeps a lock nobody of ours wrote (an operator's pulumi on a laptop)", () => {
    const verdict = judgeLock(lock({ hostname: "laptop" }), context([tenure({})]));
    expect(verdict).toEqual({ holder: "live", why: "written on laptop outside any lease of ours" });
  });
});
