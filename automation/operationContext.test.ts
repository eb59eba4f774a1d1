import { CommandError } from "@pulumi/pulumi/automation/errors.js";
import type { EngineEvent, PreviewOptions, Stack } from "@pulumi/pulumi/automation/index.js";
import { describe, expect, it } from "vitest";
import { COMMAND_LINE_WITHHELD, classify, OperationContext } from "./operationContext.ts";
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

const KEY =
  "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\nAAAEB/u+LQng1OCmIIoeZK8u\n-----END OPENSSH PRIVATE KEY-----";

/** A failed `pulumi config set-all` as the Automation API reports it: its CommandResult's text. */
function cliFailure(stderr: string): CommandError {
  const processError = new Error(
    `Command failed with exit code 255: pulumi config set-all --stack t --secret mindroom:sshPrivateKey=${KEY} --non-interactive\n${stderr}`,
  );
  // The constructor takes the CommandResult, of which it keeps the text (cmd.js toString).
  return new CommandError(`code: 255\n stdout: \n stderr: ${stderr}\n err?: ${processError}\n`);
}

describe("an operation's error message", () => {
  it("keeps the engine's words and drops the CLI's command line, which carries secrets", () => {
    const { kind, message } = classify(cliFailure("error: failed to load checkpoint: EOF\n"));
    expect(kind).toBe("CommandError");
    expect(message).toBe("error: failed to load checkpoint: EOF");
    for (const line of KEY.split("\n")) expect(message).not.toContain(line);
  });

  it("says the CLI failed when its stderr is empty, still without the command line", () => {
    const { message } = classify(cliFailure(""));
    expect(message).toBe(COMMAND_LINE_WITHHELD);
  });

  it("keeps any other error's message, its last 20 lines", () => {
    const lines = Array.from({ length: 25 }, (_, i) => `line ${i}`);
    expect(classify(new TypeError(lines.join("\n")))).toEqual({
      kind: "TypeError",
      message: lines.slice(5).join("\n"),
    });
    expect(classify("plain")).toEqual({ kind: "Error", message: "plain" });
  });
});
