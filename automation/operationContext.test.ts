import type { EngineEvent, PreviewOptions, Stack } from "@pulumi/pulumi/automation/index.js";
import { describe, expect, it } from "vitest";
import { OperationContext } from "./operationContext.ts";
import type { ProgressEvent } from "./progress.ts";

/** A `Stack` whose preview streams the given resource steps (type, op), as the engine would. */
function previewing(steps: readonly [string, string][]) {
  const calls: PreviewOptions[] = [];
  const stack = {
    preview: async (options: PreviewOptions) => {
      calls.push(options);
      for (const [type, op] of steps)
        options.onEvent?.({
          sequence: 0,
          timestamp: 0,
          resourcePreEvent: { metadata: { op, type, urn: `urn:pulumi:s::p::${type}::x`, provider: "" } },
        } as EngineEvent);
      return { stdout: "", stderr: "", changeSummary: {} };
    },
  } as unknown as Stack;
  return { stack, calls };
}

describe("OperationContext.plan", () => {
  it("reports the preview's resource steps as the operation's total, the stack resource aside", async () => {
    const events: ProgressEvent[] = [];
    const ctx = new OperationContext({ onProgress: (e) => events.push(e) }, 60_000);
    const { stack, calls } = previewing([
      ["pulumi:pulumi:Stack", "create"],
      ["pulumi:providers:command", "create"],
      ["command:remote:Command", "create"],
      ["command:remote:Command", "same"],
    ]);
    try {
      await ctx.plan(stack);
    } finally {
      ctx.dispose();
    }
    expect(events).toEqual([{ type: "plan", total: 3 }]);
    // The plan runs without the policy pack (the up runs it) and stops with the operation.
    expect(calls).toHaveLength(1);
    expect(calls[0]?.policyPacks).toBeUndefined();
    expect(calls[0]?.signal).toBeInstanceOf(AbortSignal);
  });

  it("costs nothing when nobody listens to progress", async () => {
    const ctx = new OperationContext({}, 60_000);
    const { stack, calls } = previewing([["command:remote:Command", "create"]]);
    try {
      await ctx.plan(stack);
    } finally {
      ctx.dispose();
    }
    expect(calls).toEqual([]);
  });
});
