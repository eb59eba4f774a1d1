import { describe, expect, it } from "vitest";
import { paint, renderChanges, renderPlan, renderResult, renderTable } from "./render.ts";

const plain = { color: false };

describe("render", () => {
  it("aligns tables", () => {
    expect(
      renderTable(
        ["A", "LONGER"],
        [
          ["x", "1"],
          ["yyyy", "22"],
        ],
      ),
    ).toBe("A     LONGER\n----  ------\nx     1\nyyyy  22");
  });
  it("summarises changes, leaving out what stays the same", () => {
    expect(renderChanges({ same: 20, update: 2, create: 1 })).toBe("2 to update, 1 to create");
    expect(renderChanges({ same: 20 })).toBe("no changes");
    expect(renderChanges({ drifted: 3 })).toBe("3 drifted");
  });
  it("draws a Pulumi-style plan, with properties on request", () => {
    const steps = [
      {
        resource: "t-limits",
        type: "command:remote:Command",
        op: "update",
        changes: [{ path: "create", kind: "update" }],
      },
      { resource: "t-app", type: "command:remote:Command", op: "same", changes: [] },
    ];
    expect(renderPlan(plain, steps, false)).toBe("  ~  command:remote:Command   t-limits  update");
    expect(renderPlan(plain, steps, true)).toContain("        update   create");
    expect(renderPlan(plain, [], false)).toBe("  no changes");
  });
  it("colours only when asked", () => {
    expect(paint({ color: true }, "red", "x")).toBe("\u001b[31mx\u001b[0m");
    expect(paint(plain, "red", "x")).toBe("x");
  });
  it("shows errors and policy violations of a result", () => {
    const text = renderResult(plain, {
      tenant: "acme",
      operation: "up",
      status: "failed",
      changes: {},
      durationMs: 1500,
      policyViolations: [
        { policy: "images-pinned", level: "mandatory", message: "pin it", resource: "t-deploy" },
      ],
      error: { kind: "CommandError", message: "preview failed" },
    });
    expect(text).toBe(
      "acme up failed in 1.5 s: no changes\n  [mandatory] images-pinned (t-deploy): pin it\n  CommandError: preview failed",
    );
  });
});
