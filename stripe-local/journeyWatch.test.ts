/**
 * When a journey step counts as acted on, and how the customer's tenant is described (pure parts of
 * journeyWatch.ts; the wait against a real platform is in journey.engine.test.ts).
 */
import { describe, expect, test } from "vitest";
import { describeProgress, describeTenant, hasActed, type TenantView } from "./journeyWatch.ts";

const running: TenantView = {
  slug: "ada-x1",
  tier: "starter",
  desiredState: "running",
  actualState: "running",
  applied: true,
  urls: {
    app: "https://ada-x1.mindroom.test",
    api: "https://ada-x1.api.mindroom.test",
    matrix: "https://ada-x1.matrix.mindroom.test",
  },
  warning: null,
  deletionDueAt: null,
  lastError: null,
  operation: { kind: "up", status: "succeeded", done: 31, total: 31, message: "succeeded" },
  pendingEvents: 0,
};

describe("hasActed", () => {
  test("the tenant settled where the step leads, its spec applied, every event handled", () => {
    expect(hasActed(running, { state: "running", tier: "starter" })).toBe(true);
    expect(hasActed(running, { state: "running", warning: false })).toBe(true);
  });

  test("not yet: no tenant, events waiting, spec not applied, another state, tier or warning", () => {
    expect(hasActed(null, { state: "running" })).toBe(false);
    expect(hasActed({ ...running, pendingEvents: 1 }, { state: "running" })).toBe(false);
    expect(hasActed({ ...running, applied: false }, { state: "running" })).toBe(false);
    expect(hasActed({ ...running, actualState: "provisioning" }, { state: "running" })).toBe(false);
    // Desired suspended, actual still running: the suspension is on its way.
    expect(hasActed({ ...running, desiredState: "suspended" }, { state: "running" })).toBe(false);
    expect(hasActed(running, { state: "running", tier: "professional" })).toBe(false);
    expect(hasActed(running, { state: "running", warning: true })).toBe(false);
    const suspended = { ...running, desiredState: "suspended", actualState: "suspended" };
    expect(hasActed(suspended, { state: "suspended", deletionScheduled: true })).toBe(false);
    expect(
      hasActed(
        { ...suspended, deletionDueAt: "2026-12-11T10:00:00.000Z" },
        { state: "suspended", deletionScheduled: true },
      ),
    ).toBe(true);
  });
});

describe("what the customer has", () => {
  test("running, with its URLs and any warning", () => {
    expect(describeTenant(running)).toBe(
      "running (ada-x1, starter) at https://ada-x1.mindroom.test (api https://ada-x1.api.mindroom.test, matrix https://ada-x1.matrix.mindroom.test)",
    );
    expect(describeTenant({ ...running, urls: null, warning: "payment past due" })).toBe(
      "running (ada-x1, starter); warning: payment past due",
    );
  });

  test("suspended, with the deletion date when one is scheduled; failed, with the first line of its error", () => {
    const suspended = { ...running, actualState: "suspended" };
    expect(describeTenant(suspended)).toBe("suspended (ada-x1, starter); data kept");
    expect(describeTenant({ ...suspended, deletionDueAt: "2026-12-11T10:00:00.000Z" })).toBe(
      "suspended, deletion scheduled for 2026-12-11T10:00:00.000Z (ada-x1, starter); data kept until then",
    );
    expect(
      describeTenant({ ...running, actualState: "failed", lastError: "CommandError: refused\nmore" }),
    ).toBe("failed (ada-x1, starter); last error: CommandError: refused");
  });

  test("progress: before the platform has the customer, an operation under way, events waiting", () => {
    expect(describeProgress(null)).toBe("waiting for the platform to take the customer on");
    expect(
      describeProgress({
        ...running,
        actualState: "provisioning",
        operation: { kind: "up", status: "running", done: 12, total: 20, message: "create runtime-app" },
      }),
    ).toBe("provisioning: up running, 12 of 20 steps (create runtime-app)");
    expect(describeProgress({ ...running, pendingEvents: 2 })).toMatch(
      /^2 event\(s\) waiting for a reconcile; now running/,
    );
  });
});
