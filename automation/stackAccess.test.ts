import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { EngineSummary, fileBackendHasStack } from "./stackAccess.ts";

const dirs: string[] = [];
const backend = () => {
  const dir = mkdtempSync(join(tmpdir(), "mindroom-backend-"));
  dirs.push(dir);
  return dir;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe("fileBackendHasStack", () => {
  it("reads a project-scoped file backend, plain or compressed", () => {
    const dir = backend();
    mkdirSync(join(dir, ".pulumi", "stacks", "proj"), { recursive: true });
    writeFileSync(join(dir, ".pulumi", "meta.yaml"), "version: 1\n");
    writeFileSync(join(dir, ".pulumi", "stacks", "proj", "a.json"), "{}");
    writeFileSync(join(dir, ".pulumi", "stacks", "proj", "b.json.gz"), "");
    expect(fileBackendHasStack(`file://${dir}`, "proj", "a")).toBe(true);
    expect(fileBackendHasStack(`file://${dir}`, "proj", "b")).toBe(true);
    expect(fileBackendHasStack(`file://${dir}`, "proj", "c")).toBe(false);
    expect(fileBackendHasStack(`file://${dir}`, "other", "a")).toBe(false);
  });

  it("says false for an empty backend and leaves other layouts and backends to the CLI", () => {
    const dir = backend();
    expect(fileBackendHasStack(`file://${dir}`, "proj", "a")).toBe(false);
    mkdirSync(join(dir, ".pulumi", "stacks"), { recursive: true });
    expect(fileBackendHasStack(`file://${dir}`, "proj", "a")).toBeUndefined();
    expect(fileBackendHasStack("s3://bucket", "proj", "a")).toBeUndefined();
  });
});

describe("EngineSummary", () => {
  it("takes the stack's outputs and the change counts from the engine's events", async () => {
    const summary = new EngineSummary("update");
    summary.observe({
      sequence: 1,
      timestamp: 0,
      resOutputsEvent: {
        metadata: {
          op: "same",
          urn: "urn:pulumi:t::p::pulumi:pulumi:Stack::p-t",
          type: "pulumi:pulumi:Stack",
          provider: "",
          new: {
            type: "pulumi:pulumi:Stack",
            urn: "urn:pulumi:t::p::pulumi:pulumi:Stack::p-t",
            custom: false,
            delete: false,
            id: "",
            parent: "",
            protect: false,
            inputs: {},
            outputs: { slug: "t", token: "[secret]" },
            provider: "",
          },
        },
      },
    });
    summary.observe({
      sequence: 2,
      timestamp: 0,
      summaryEvent: {
        maybeCorrupt: false,
        durationSeconds: 1,
        resourceChanges: { same: 3 },
        policyPacks: {},
      },
    });
    // No CLI behind this stack: answering from the events must not need one.
    const stack = summary.bind({} as never);
    expect(await stack.outputs()).toEqual({
      slug: { value: "t", secret: false },
      token: { value: "[secret]", secret: true },
    });
    expect((await stack.info())?.resourceChanges).toEqual({ same: 3 });
  });
});
