import { describe, expect, it } from "vitest";
import {
  nextRolloutStep,
  type Observation,
  PINNED_IMAGE,
  planWaves,
  type WaveTenant,
} from "./rolloutPlan.ts";

const DIGEST = `ghcr.io/mindroom-ai/mindroom@sha256:${"a".repeat(64)}`;

describe("rollout waves", () => {
  it("put the canary first, then batches", () => {
    expect(planWaves(["a", "b", "c", "d", "e"], 1, 2).map((w) => w.wave)).toEqual([0, 1, 1, 2, 2]);
    expect(planWaves(["a", "b", "c"], 0, 2).map((w) => w.wave)).toEqual([1, 1, 2]);
    expect(planWaves(["a", "b"], 5, 1).map((w) => w.wave)).toEqual([0, 0]);
    expect(planWaves([], 1, 2)).toEqual([]);
  });

  it("refuse a negative canary and an empty batch", () => {
    expect(() => planWaves(["a"], -1, 2)).toThrow("--canary must be 0 or more");
    expect(() => planWaves(["a"], 1, 0)).toThrow("--batch must be 1 or more");
    expect(() => planWaves(["a"], 1.5, 1)).toThrow("--canary");
  });

  it("move tenants to a digest only, never a tag", () => {
    expect(PINNED_IMAGE.test(DIGEST)).toBe(true);
    expect(PINNED_IMAGE.test(`registry.example.com:5000/team/mindroom:v2@sha256:${"b".repeat(64)}`)).toBe(
      true,
    );
    expect(PINNED_IMAGE.test("ghcr.io/mindroom-ai/mindroom:latest")).toBe(false);
    expect(PINNED_IMAGE.test(`ghcr.io/mindroom-ai/mindroom@sha256:${"a".repeat(63)}`)).toBe(false);
    expect(PINNED_IMAGE.test(`${DIGEST}\nrm -rf /`)).toBe(false);
  });
});

const t = (instanceId: string, wave: number, status: WaveTenant["status"]): WaveTenant => ({
  instanceId,
  wave,
  status,
});
const seen =
  (map: Record<string, Observation>) =>
  (id: string): Observation =>
    map[id] ?? { state: "in progress" };

describe("the next rollout step", () => {
  it("starts the canary wave first", () => {
    expect(nextRolloutStep([t("a", 0, "pending"), t("b", 1, "pending")], seen({}))).toEqual({
      action: "start wave",
      wave: 0,
      instanceIds: ["a"],
      succeeded: [],
    });
  });

  it("waits while a tenant of the wave is still applying, recording who converged", () => {
    const tenants = [t("b", 1, "applying"), t("c", 1, "applying"), t("d", 2, "pending")];
    expect(nextRolloutStep(tenants, seen({ b: { state: "converged" } }))).toEqual({
      action: "wait",
      succeeded: ["b"],
    });
  });

  it("starts the next wave only once the wave before it all succeeded", () => {
    const tenants = [
      t("a", 0, "succeeded"),
      t("b", 1, "succeeded"),
      t("c", 2, "pending"),
      t("d", 2, "pending"),
    ];
    expect(nextRolloutStep(tenants, seen({}))).toEqual({
      action: "start wave",
      wave: 2,
      instanceIds: ["c", "d"],
      succeeded: [],
    });
  });

  it("halts on the first failure, with who succeeded beside it, leaving later waves alone", () => {
    const tenants = [t("b", 1, "applying"), t("c", 1, "applying"), t("d", 2, "pending")];
    const step = nextRolloutStep(
      tenants,
      seen({ b: { state: "converged" }, c: { state: "failed", error: "pull failed" } }),
    );
    expect(step).toEqual({
      action: "halt",
      succeeded: ["b"],
      failed: [{ instanceId: "c", error: "pull failed" }],
    });
  });

  it("finishes when every tenant moved, and at once with no tenants", () => {
    expect(nextRolloutStep([t("a", 0, "succeeded"), t("b", 1, "succeeded")], seen({}))).toEqual({
      action: "finish",
    });
    expect(nextRolloutStep([], seen({}))).toEqual({ action: "finish" });
  });

  it("carries on a wave that a crash left half started", () => {
    const tenants = [t("b", 1, "applying"), t("c", 1, "pending")];
    expect(nextRolloutStep(tenants, seen({ b: { state: "converged" } }))).toEqual({
      action: "start wave",
      wave: 1,
      instanceIds: ["c"],
      succeeded: ["b"],
    });
  });
});
