import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { pulumiEnv } from "./pulumiToolchain.ts";

const saved = process.env.MINDROOM_TOOLS_DIR;
afterEach(() => {
  if (saved === undefined) delete process.env.MINDROOM_TOOLS_DIR;
  else process.env.MINDROOM_TOOLS_DIR = saved;
});

describe("pulumiEnv", () => {
  it("gives the Node processes pulumi starts the tools folder's compile cache", () => {
    const tools = mkdtempSync(join(tmpdir(), "mindroom-tools-"));
    try {
      process.env.MINDROOM_TOOLS_DIR = tools;
      expect(pulumiEnv()).toMatchObject({
        PULUMI_HOME: join(tools, "pulumi-home"),
        NODE_COMPILE_CACHE: join(tools, "node-compile-cache"),
      });
    } finally {
      rmSync(tools, { recursive: true, force: true });
    }
  });

  it("leaves the cache off where the tools folder cannot be written", () => {
    process.env.MINDROOM_TOOLS_DIR = join(tmpdir(), "mindroom-tools-that-do-not-exist");
    expect(pulumiEnv().NODE_COMPILE_CACHE).toBeUndefined();
  });
});
