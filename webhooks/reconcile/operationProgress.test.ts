import { describe, expect, it } from "vitest";
import type { ProgressEvent } from "../../automation/progress.ts";
import {
  EMPTY_PROGRESS,
  foldProgress,
  type OperationProgressSummary,
  ThrottledProgress,
} from "./operationProgress.ts";

const urn = (name: string) =>
  `urn:pulumi:t::mindroom-tenant::mindroom:Tenant$command:remote:Command::${name}`;
const events: ProgressEvent[] = [
  { type: "resource.started", urn: urn("tenant-network"), resourceType: "command", op: "create" },
  { type: "resource.done", urn: urn("tenant-network"), op: "create", durationMs: 5 },
  { type: "diagnostic", severity: "info", message: "hello" },
  { type: "resource.started", urn: urn("tenant-runtime-app"), resourceType: "command", op: "update" },
  { type: "resource.failed", urn: urn("tenant-runtime-app"), op: "update" },
];

describe("operation progress", () => {
  it("folds events into step, done and message; without a plan the total stays unknown (0)", () => {
    const states: OperationProgressSummary[] = [];
    for (const e of events) states.push(foldProgress(states.at(-1) ?? EMPTY_PROGRESS, e));
    expect(states.map((s) => [s.step, s.done, s.total, s.message])).toEqual([
      ["tenant-network", 0, 0, "create tenant-network"],
      ["tenant-network", 1, 0, "create tenant-network done"],
      ["tenant-network", 1, 0, "create tenant-network done"],
      ["tenant-runtime-app", 1, 0, "update tenant-runtime-app"],
      ["tenant-runtime-app", 1, 0, "update tenant-runtime-app failed"],
    ]);
  });

  it("takes the total from the plan, growing it only when more steps finish than planned", () => {
    const done = (name: string): ProgressEvent => ({
      type: "resource.done",
      urn: urn(name),
      op: "same",
      durationMs: 1,
    });
    let s = foldProgress(EMPTY_PROGRESS, { type: "plan", total: 2 });
    expect([s.done, s.total]).toEqual([0, 2]);
    s = foldProgress(s, done("a"));
    expect([s.done, s.total]).toEqual([1, 2]);
    s = foldProgress(foldProgress(s, done("b")), done("c"));
    expect([s.done, s.total]).toEqual([3, 3]);
  });

  it("writes at most once per interval, and nothing after flush", async () => {
    const writes: OperationProgressSummary[] = [];
    const progress = new ThrottledProgress(
      async (s) => {
        writes.push(s);
      },
      60_000,
      (e) => {
        throw e;
      },
    );
    for (const e of events) progress.push(e);
    await new Promise((r) => setTimeout(r, 20));
    // The first write goes out at once with everything folded so far; the rest waits a minute.
    expect(writes).toHaveLength(1);
    for (const e of events) progress.push(e);
    const final = await progress.flush();
    expect(writes).toHaveLength(1);
    expect(final.done).toBe(2);
  });
});
