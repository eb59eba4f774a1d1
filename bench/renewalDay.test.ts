/**
 * The renewal-day scenario end to end at a small size (no figure is asserted: those are the
 * benchmark's): every renewal is acknowledged 200, none queues a reconcile, every period moves on,
 * and the sweep's listing under the rate limiter lists every subscription.
 */
import { describe, expect, it } from "vitest";
import { measureRenewalDay, renderRenewalDay, renewalDayCli, renewalDayMet } from "./renewalDay.ts";

describe("renewal day", () => {
  it("acknowledges every renewal, queues no reconcile, and lists every subscription under the limiter", async () => {
    const options = { subscriptions: 40, windowSeconds: 1, stripeRate: 1, timeoutSeconds: 600 };
    const result = await measureRenewalDay(options, () => undefined);
    expect(result.statuses).toEqual({ "200": 80 });
    expect(result.reconcilesCaused).toBe(0);
    expect(result.recorded).toBe(80);
    expect(result.handledWithoutReconcile).toBe(80);
    expect(result.periodsAdvanced).toBe(40);
    expect(result.sweep).toMatchObject({ subscriptions: 40, pages: 1 });
    expect(renewalDayMet(result)).toBe(true);
    expect(renderRenewalDay(result)).toContain("reconciles caused: 0 (target 0)");
  }, 300_000);

  it("refuses bad options with exit code 2", async () => {
    const stderr = process.stderr.write;
    process.stderr.write = () => true;
    try {
      expect(await renewalDayCli(["--subscriptions", "0"])).toBe(2);
      expect(await renewalDayCli(["--window", "soon"])).toBe(2);
      expect(await renewalDayCli(["--colour", "red"])).toBe(2);
    } finally {
      process.stderr.write = stderr;
    }
  });
});
