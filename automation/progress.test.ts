import type { EngineEvent } from "@pulumi/pulumi/automation/index.js";
import { describe, expect, it } from "vitest";
import { announcedStep, type ProgressEvent, ProgressTranslator } from "./progress.ts";

const meta = (
  op: string,
  type = "command:remote:Command",
  urn = "urn:pulumi:s::p::command:remote:Command::x",
) =>
  ({
    op,
    type,
    urn,
    provider: "",
    detailedDiff: { create: { diffKind: "update", inputDiff: true } },
  }) as never;
const event = (e: Partial<EngineEvent>) => ({ sequence: 0, timestamp: 0, ...e }) as EngineEvent;

describe("ProgressTranslator", () => {
  it("times resource steps during an update", () => {
    let now = 1000;
    const t = new ProgressTranslator(() => now);
    expect(t.translate(event({ resourcePreEvent: { metadata: meta("create") } }), false)).toEqual([
      {
        type: "resource.started",
        urn: "urn:pulumi:s::p::command:remote:Command::x",
        resourceType: "command:remote:Command",
        op: "create",
      },
    ]);
    now = 1750;
    expect(t.translate(event({ resOutputsEvent: { metadata: meta("create") } }), false)).toEqual([
      {
        type: "resource.done",
        urn: "urn:pulumi:s::p::command:remote:Command::x",
        op: "create",
        durationMs: 750,
      },
    ]);
  });

  it("reports planned steps with their changed properties during a preview, and skips the stack", () => {
    const t = new ProgressTranslator();
    expect(t.translate(event({ resourcePreEvent: { metadata: meta("update") } }), true)).toEqual([
      expect.objectContaining({
        type: "resource.planned",
        op: "update",
        changes: [{ path: "create", kind: "update" }],
      }),
    ]);
    expect(
      t.translate(event({ resourcePreEvent: { metadata: meta("create", "pulumi:pulumi:Stack") } }), true),
    ).toEqual([]);
  });

  it("passes on failures, diagnostics without colour codes, policy violations and the summary", () => {
    const t = new ProgressTranslator();
    expect(
      t.translate(
        event({
          resOpFailedEvent: { metadata: meta("create"), status: 1, steps: 1 },
          diagnosticEvent: { message: "\u001b[31mboom\u001b[0m\n", color: "raw", severity: "error" },
          policyEvent: {
            message: "no",
            color: "raw",
            policyName: "images-pinned",
            policyPackName: "mindroom",
            policyPackVersion: "1",
            policyPackVersionTag: "1",
            enforcementLevel: "mandatory",
          },
          summaryEvent: {
            maybeCorrupt: false,
            durationSeconds: 2,
            resourceChanges: { create: 3 },
            policyPacks: {},
          },
        }),
        false,
      ),
    ).toEqual([
      { type: "resource.failed", urn: "urn:pulumi:s::p::command:remote:Command::x", op: "create" },
      { type: "diagnostic", severity: "error", message: "boom" },
      {
        type: "policy.violation",
        policy: "images-pinned",
        pack: "mindroom",
        level: "mandatory",
        message: "no",
      },
      { type: "summary", changes: { create: 3 }, durationMs: 2000 },
    ]);
  });
});

describe("announcedStep: the engine's plan, counted", () => {
  const urn = (name: string, type: string) => `urn:pulumi:s::p::${type}::${name}`;
  const steps: [string, string, string][] = [
    ["s-p", "pulumi:pulumi:Stack", "create"],
    ["default", "pulumi:providers:command", "create"],
    ["app", "command:remote:Command", "create"],
    ["domain", "command:remote:Command", "create"],
    ["old", "command:remote:Command", "delete"],
  ];

  it("counts every resource step a preview announces, the stack resource aside", () => {
    const preview = steps.map(([name, type, op]) =>
      event({ resourcePreEvent: { metadata: meta(op, type, urn(name, type)), planning: true } }),
    );
    const others = [
      event({ resOutputsEvent: { metadata: meta("create") } }),
      event({ diagnosticEvent: { message: "hi", color: "never", severity: "info" } }),
    ];
    expect([...preview, ...others].filter((e) => announcedStep(e)).length).toBe(4);
  });

  it("is as many steps as the update then reports done", () => {
    const t = new ProgressTranslator();
    const update: ProgressEvent[] = steps.flatMap(([name, type, op]) => [
      ...t.translate(event({ resourcePreEvent: { metadata: meta(op, type, urn(name, type)) } }), false),
      ...t.translate(event({ resOutputsEvent: { metadata: meta(op, type, urn(name, type)) } }), false),
    ]);
    const planned = steps.filter(([name, type, op]) =>
      announcedStep(event({ resourcePreEvent: { metadata: meta(op, type, urn(name, type)) } })),
    ).length;
    expect(update.filter((e) => e.type === "resource.done").length).toBe(planned);
  });
});
