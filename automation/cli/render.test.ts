import type { EngineEvent } from "@pulumi/pulumi/automation/index.js";
import { describe, expect, it } from "vitest";
import type { OperationResult } from "../operationResult.ts";
import { ProgressTranslator } from "../progress.ts";
import { paint, renderChanges, renderPlan, renderResult, renderTable, TenantTally } from "./render.ts";

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
        changes: [{ path: "create", kind: "update", old: "limit 512", new: "limit 1024" }],
      },
      { resource: "t-app", type: "command:remote:Command", op: "same", changes: [] },
    ];
    expect(renderPlan(plain, steps, false)).toBe("  ~  command:remote:Command   t-limits  update");
    expect(renderPlan(plain, steps, true)).toContain('        ~ create: "limit 512" ⇒ "limit 1024"');
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
  it("diffs a planned step from the engine's event as old ⇒ new, secrets masked", () => {
    const inputs = (memory: number, key: string) => ({
      create: `set -e\ndokku resource:limit --memory ${memory} t-runtime\ndokku ps:rebuild t-runtime`,
      connection: { host: "10.0.0.1", user: "root", privateKey: "[secret]" },
      environment: { STRIPE_SECRET_KEY: key },
    });
    const [planned] = new ProgressTranslator().translate(
      {
        sequence: 1,
        timestamp: 0,
        resourcePreEvent: {
          metadata: {
            op: "update",
            urn: "urn:pulumi:t::mindroom-tenant::command:remote:Command::t-limits",
            type: "command:remote:Command",
            provider: "",
            old: {
              type: "",
              urn: "",
              id: "",
              parent: "",
              provider: "",
              inputs: inputs(512, "sk_live_old1"),
              outputs: {},
            },
            new: {
              type: "",
              urn: "",
              id: "",
              parent: "",
              provider: "",
              inputs: inputs(1024, "sk_live_new2"),
              outputs: {},
            },
            detailedDiff: {
              create: { diffKind: "update", inputDiff: true },
              "connection.privateKey": { diffKind: "update", inputDiff: true },
              "environment.STRIPE_SECRET_KEY": { diffKind: "update", inputDiff: true },
            },
          },
        },
      } as unknown as EngineEvent,
      true,
    );
    if (planned?.type !== "resource.planned") throw new Error("no planned step");
    const text = renderPlan(
      plain,
      [{ resource: "t-limits", type: planned.resourceType, op: planned.op, changes: planned.changes }],
      true,
    );
    expect(text).toBe(
      [
        "  ~  command:remote:Command   t-limits  update",
        "        ~ create:",
        "              set -e",
        "            - dokku resource:limit --memory 512 t-runtime",
        "            + dokku resource:limit --memory 1024 t-runtime",
        "              dokku ps:rebuild t-runtime",
        '        ~ connection.privateKey: "[secret]" ⇒ "[secret]"',
        '        ~ environment.STRIPE_SECRET_KEY: "[redacted]" ⇒ "[redacted]"',
      ].join("\n"),
    );
    expect(text).not.toMatch(/sk_live_(old1|new2)/);
  });
});

describe("TenantTally", () => {
  /** A stream that records what is written, a terminal or not. */
  const stream = (isTTY: boolean) => {
    const written: string[] = [];
    const out = { isTTY, write: (s: string) => written.push(s) > 0 } as unknown as NodeJS.WriteStream;
    return { out, written };
  };
  const result = (tenant: string, over: Partial<OperationResult> = {}): OperationResult => ({
    tenant,
    operation: "drift",
    status: "succeeded",
    changes: {},
    durationMs: 1,
    policyViolations: [],
    drift: [],
    ...over,
  });
  const drifted = { changes: { drifted: 1 }, drift: [{ id: "x", expected: "a", observed: "b", repair: [] }] };
  /** One clean tenant, one drifted, one failed, then the end. */
  const finishThree = (tally: TenantTally) => {
    tally.done(result("acme"));
    tally.done(result("beta", drifted));
    tally.done(result("gamma", { status: "failed" }));
    tally.stop();
  };

  it("prints a line per finished tenant with its count and outcome off a terminal", () => {
    const { out, written } = stream(false);
    const tally = new TenantTally("drift", 3, out);
    finishThree(tally);
    expect(written).toEqual([
      "drift 1/3: acme succeeded, no changes\n",
      "drift 2/3: beta succeeded, 1 drifted\n",
      "drift 3/3: gamma failed, no changes\n",
    ]);
  });

  it("redraws one count line on a terminal, naming tenants with changes and failures", () => {
    const { out, written } = stream(true);
    const tally = new TenantTally("drift", 3, out);
    finishThree(tally);
    expect(written).toEqual([
      "\r\u001b[2Kdrift 0/3 tenants",
      "\r\u001b[2Kdrift 1/3 tenants",
      "\r\u001b[2Kdrift 2/3 tenants (1 with changes)",
      "\r\u001b[2Kdrift 3/3 tenants (1 with changes, 1 failed)",
      "\n",
    ]);
  });
});
