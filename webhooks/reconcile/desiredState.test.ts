import { describe, expect, it } from "vitest";
import {
  type DesiredStateInput,
  type DesiredTenant,
  desiredState,
  governingSubscription,
  type InstanceSnapshot,
  instanceSnapshot,
  STRIPE_STATUSES,
  type StripeStatus,
  type SubscriptionSnapshot,
  UnknownPriceError,
} from "./desiredState.ts";

const NOW = new Date("2026-11-29T12:00:00Z");
const GRACE = 7 * 24 * 3600_000;
const PRICES = new Map([
  ["price_starter", "starter"],
  ["price_pro", "professional"],
] as const);

function sub(overrides: Partial<SubscriptionSnapshot> = {}): SubscriptionSnapshot {
  return {
    id: "sub_1",
    status: "active",
    priceId: "price_starter",
    cancelAtPeriodEnd: false,
    currentPeriodEnd: new Date("2026-12-29T00:00:00Z"),
    endedAt: null,
    created: new Date("2026-10-01T00:00:00Z"),
    ...overrides,
  };
}

function decide(overrides: Partial<DesiredStateInput>): DesiredTenant {
  return desiredState({
    subscriptions: [],
    instance: null,
    now: NOW,
    deletionGraceMs: GRACE,
    priceTiers: PRICES,
    ...overrides,
  });
}

const ago = (ms: number) => new Date(NOW.getTime() - ms);

/** What each status means without an instance and with one (grace elapsed: canceled only). */
const EXPECTED: {
  readonly [S in StripeStatus]: {
    readonly none: DesiredTenant["state"];
    readonly existing: DesiredTenant["state"];
    readonly existingGraceOver: DesiredTenant["state"];
  };
} = {
  active: { none: "running", existing: "running", existingGraceOver: "running" },
  trialing: { none: "running", existing: "running", existingGraceOver: "running" },
  past_due: { none: "running", existing: "running", existingGraceOver: "running" },
  unpaid: { none: "absent", existing: "suspended", existingGraceOver: "suspended" },
  paused: { none: "absent", existing: "suspended", existingGraceOver: "suspended" },
  incomplete_expired: { none: "absent", existing: "suspended", existingGraceOver: "suspended" },
  // Pending first payment: a new customer waits; an existing tenant (from an
  // earlier, now gone subscription) goes the way of "no subscription left".
  incomplete: { none: "absent", existing: "suspended", existingGraceOver: "deleted" },
  canceled: { none: "absent", existing: "suspended", existingGraceOver: "deleted" },
};

const cases = STRIPE_STATUSES.flatMap((status) =>
  [false, true].flatMap((cancelAtPeriodEnd) =>
    [false, true].flatMap((graceOver) =>
      [false, true].map((hasInstance) => ({ status, cancelAtPeriodEnd, graceOver, hasInstance })),
    ),
  ),
);

describe("desiredState: every status × cancel_at_period_end × grace × instance", () => {
  it("covers 64 combinations", () => expect(cases).toHaveLength(64));

  it.each(cases)(
    "$status cancelAtPeriodEnd=$cancelAtPeriodEnd graceOver=$graceOver instance=$hasInstance",
    ({ status, cancelAtPeriodEnd, graceOver, hasInstance }) => {
      const ended = status === "canceled" ? (graceOver ? ago(GRACE + 1000) : ago(1000)) : null;
      // For the other statuses a deletion was scheduled earlier (an old
      // cancellation); the current subscription must override it, due or not.
      const instance: InstanceSnapshot | null = hasInstance
        ? {
            tier: "starter",
            deletionDueAt: graceOver ? ago(1000) : new Date(NOW.getTime() + 1000),
            deleted: false,
            hold: null,
          }
        : null;
      const result = decide({
        subscriptions: [sub({ status, cancelAtPeriodEnd, endedAt: ended })],
        instance,
      });
      const row = EXPECTED[status];
      expect(result.state).toBe(!hasInstance ? row.none : graceOver ? row.existingGraceOver : row.existing);

      if (result.state === "running") {
        expect(result.tier).toBe("starter");
        expect(result.subscriptionId).toBe("sub_1");
        if (status === "past_due") expect(result.warning).toMatch(/^payment past due/);
        else if (cancelAtPeriodEnd)
          expect(result.warning).toBe("subscription ends at period end (2026-12-29T00:00:00.000Z)");
        else expect(result.warning).toBeNull();
        if (status === "past_due" && cancelAtPeriodEnd) expect(result.warning).toMatch(/subscription ends/);
      }
      if (result.state === "suspended") {
        if (status === "canceled") {
          expect(result.deletionDueAt).toEqual(new Date((ended as Date).getTime() + GRACE));
        } else if (status === "incomplete") {
          // No governing subscription: the deletion already scheduled stands.
          expect(result.deletionDueAt).toEqual(instance?.deletionDueAt);
        } else {
          expect(result.deletionDueAt).toBeNull();
          expect(result.reason).toContain("data kept");
        }
      }
      if (result.state === "deleted") {
        expect(result.deletionDueAt.getTime()).toBeLessThanOrEqual(NOW.getTime());
      }
    },
  );
});

describe("desiredState: deletion", () => {
  const instance: InstanceSnapshot = { tier: "starter", deletionDueAt: null, deleted: false, hold: null };

  it("is due exactly at ended_at + grace, not a moment before", () => {
    const endedAt = ago(GRACE);
    const atDue = decide({ subscriptions: [sub({ status: "canceled", endedAt })], instance });
    expect(atDue).toMatchObject({ state: "deleted", deletionDueAt: NOW });
    const before = decide({
      subscriptions: [sub({ status: "canceled", endedAt })],
      instance,
      now: new Date(NOW.getTime() - 1),
    });
    expect(before).toMatchObject({ state: "suspended", deletionDueAt: NOW });
  });

  it("without ended_at or any subscription, counts the grace from now, and keeps a date once set", () => {
    expect(decide({ subscriptions: [], instance })).toMatchObject({
      state: "suspended",
      subscriptionId: null,
      deletionDueAt: new Date(NOW.getTime() + GRACE),
      reason: expect.stringContaining("no subscription is left"),
    });
    const scheduled = { ...instance, deletionDueAt: ago(1) };
    expect(decide({ subscriptions: [], instance: scheduled })).toMatchObject({
      state: "deleted",
      tier: "starter",
    });
    expect(
      decide({ subscriptions: [sub({ status: "canceled", endedAt: null })], instance: scheduled }),
    ).toMatchObject({ state: "deleted" });
  });

  it("with a zero grace, deletes at once", () => {
    expect(
      decide({
        subscriptions: [sub({ status: "canceled", endedAt: NOW })],
        instance,
        deletionGraceMs: 0,
      }),
    ).toMatchObject({ state: "deleted", deletionDueAt: NOW });
  });

  it("is cancelled by a resubscription before the due date", () => {
    const scheduled = { ...instance, deletionDueAt: new Date(NOW.getTime() + 1000) };
    const result = decide({
      subscriptions: [
        sub({ id: "sub_old", status: "canceled", endedAt: ago(1000) }),
        sub({ id: "sub_new", status: "active", priceId: "price_pro", created: ago(10) }),
      ],
      instance: scheduled,
    });
    expect(result).toEqual({
      state: "running",
      tier: "professional",
      subscriptionId: "sub_new",
      warning: null,
      reason: "subscription sub_new is active",
    });
  });

  it("a resubscription after deletion provisions again; a canceled one leaves the deleted tenant absent", () => {
    const deleted: InstanceSnapshot = { tier: "starter", deletionDueAt: ago(5), deleted: true, hold: null };
    expect(
      decide({
        subscriptions: [sub({ status: "canceled", endedAt: ago(GRACE * 2) }), sub({ id: "sub_2" })],
        instance: deleted,
      }),
    ).toMatchObject({ state: "running", subscriptionId: "sub_2" });
    expect(
      decide({ subscriptions: [sub({ status: "canceled", endedAt: ago(GRACE * 2) })], instance: deleted }),
    ).toMatchObject({ state: "absent" });
  });
});

describe("desiredState: several subscriptions and prices", () => {
  it("an incomplete resubscription neither provisions nor cancels the deletion", () => {
    const instance: InstanceSnapshot = { tier: "starter", deletionDueAt: null, deleted: false, hold: null };
    const result = decide({
      subscriptions: [
        sub({ id: "sub_old", status: "canceled", endedAt: ago(1000) }),
        sub({ id: "sub_new", status: "incomplete", created: ago(5) }),
      ],
      instance,
    });
    expect(result).toMatchObject({ state: "suspended", subscriptionId: "sub_old" });
    expect(decide({ subscriptions: [sub({ status: "incomplete" })] })).toEqual({
      state: "absent",
      reason: "subscription sub_1 is incomplete: waiting for the first payment",
    });
  });

  it("the most entitled subscription governs, then the newest, then the one that ended last", () => {
    const pick = (subs: SubscriptionSnapshot[]) => governingSubscription(subs)?.id;
    expect(
      pick([
        sub({ id: "a", status: "past_due" }),
        sub({ id: "b", status: "active" }),
        sub({ id: "c", status: "unpaid" }),
      ]),
    ).toBe("b");
    expect(
      pick([
        sub({ id: "old", status: "active", created: ago(100) }),
        sub({ id: "new", status: "trialing", created: ago(10) }),
      ]),
    ).toBe("new");
    // Created in the same second (a resubscription at once): the one that ended last.
    const second = ago(50);
    expect(
      pick([
        sub({ id: "a-first", status: "canceled", created: second, endedAt: ago(5) }),
        sub({ id: "b-again", status: "canceled", created: second, endedAt: ago(4) }),
      ]),
    ).toBe("b-again");
    expect(pick([])).toBeUndefined();
  });

  it("maps the tier from the price", () => {
    expect(decide({ subscriptions: [sub({ priceId: "price_pro" })] })).toMatchObject({
      state: "running",
      tier: "professional",
    });
  });

  it("an unknown price is a typed error that says to add it to STRIPE_PRICE_TIERS", () => {
    const attempt = () => decide({ subscriptions: [sub({ priceId: "price_mystery" })] });
    expect(attempt).toThrow(UnknownPriceError);
    expect(attempt).toThrow(
      'subscription sub_1 uses price price_mystery, which maps to no tier: add "price_mystery=<tier>" to STRIPE_PRICE_TIERS',
    );
    expect(() => decide({ subscriptions: [sub({ priceId: null })] })).toThrow(/needs exactly one item/);
  });
});

describe("desiredState: an operator's hold", () => {
  const held: InstanceSnapshot = {
    tier: "starter",
    deletionDueAt: null,
    deleted: false,
    hold: { reason: "abuse report #12" },
  };

  it.each(STRIPE_STATUSES)("with a %s subscription, never leaves the tenant running", (status) => {
    const ended = status === "canceled" ? ago(1000) : null;
    const free = decide({
      subscriptions: [sub({ status, endedAt: ended })],
      instance: { ...held, hold: null },
    });
    const result = decide({ subscriptions: [sub({ status, endedAt: ended })], instance: held });
    expect(result.state).not.toBe("running");
    if (free.state === "running") {
      // What would run is suspended instead, data kept, no deletion scheduled.
      expect(result).toEqual({
        state: "suspended",
        tier: free.tier,
        subscriptionId: free.subscriptionId,
        deletionDueAt: null,
        reason: `held by an operator (abuse report #12); ${free.reason}`,
      });
    } else {
      // Everything else (suspensions, deletions) is exactly what the subscription decides.
      expect(result).toEqual(free);
    }
  });

  it("does not delay a due deletion", () => {
    expect(
      decide({ subscriptions: [sub({ status: "canceled", endedAt: ago(GRACE + 1) })], instance: held }),
    ).toMatchObject({ state: "deleted" });
  });

  it("is read from the instance row the same way by the worker and the sweep", () => {
    const row = { tier: "starter", deletionDueAt: null, actualState: "running", hold: null };
    expect(instanceSnapshot(row)).toEqual({
      tier: "starter",
      deletionDueAt: null,
      deleted: false,
      hold: null,
    });
    expect(instanceSnapshot({ ...row, tier: "retired-tier", actualState: "deleted" })).toMatchObject({
      tier: "free",
      deleted: true,
    });
    expect(instanceSnapshot({ ...row, hold: { reason: "r" } }).hold).toEqual({ reason: "r" });
  });
});
