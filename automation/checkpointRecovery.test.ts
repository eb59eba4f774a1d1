import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { repairTornCheckpoint } from "./checkpointRecovery.ts";

const good = (n: number) => JSON.stringify({ version: 3, checkpoint: { stack: "acme", n } });

function stacksDir(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "checkpoint-"));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

describe("repairTornCheckpoint", () => {
  it("leaves an intact checkpoint alone", () => {
    const dir = stacksDir({ "acme.json": good(2), "acme.json.bak": good(1) });
    expect(repairTornCheckpoint(dir, "acme")).toBe("intact");
    expect(readFileSync(join(dir, "acme.json"), "utf8")).toBe(good(2));
  });

  it("reports a stack without a checkpoint as absent (never resurrects a removed stack)", () => {
    const dir = stacksDir({ "acme.json.bak": good(1) });
    expect(repairTornCheckpoint(dir, "acme")).toBe("absent");
    expect(readdirSync(dir)).toEqual(["acme.json.bak"]);
  });

  it.each([
    ["empty", ""],
    ["cut short", good(2).slice(0, 20)],
    ["not a checkpoint", "{}"],
  ])("restores the backup over a %s checkpoint and keeps the torn file", (_, torn) => {
    const dir = stacksDir({ "acme.json": torn, "acme.json.bak": good(1) });
    expect(repairTornCheckpoint(dir, "acme")).toBe("restored");
    expect(readFileSync(join(dir, "acme.json"), "utf8")).toBe(good(1));
    expect(readdirSync(dir).filter((f) => f.startsWith("acme.json.torn-"))).toHaveLength(1);
  });

  it.each([
    ["empty", ""],
    ["cut short", '{"md5":"/H9p'],
  ])("sets aside %s attributes of an intact checkpoint, which fail every read with EOF", (_, torn) => {
    const attributes = '{"user.content_type":"text/plain; charset=utf-8","md5":"/H9pndnqv4k7miLV0FeKZA=="}';
    const dir = stacksDir({ "acme.json": good(2), "acme.json.attrs": torn, "acme.json.bak": good(1) });
    expect(repairTornCheckpoint(dir, "acme")).toBe("restored");
    expect(readFileSync(join(dir, "acme.json"), "utf8")).toBe(good(2));
    expect(readdirSync(dir).filter((f) => f.startsWith("acme.json.attrs"))).toEqual([
      expect.stringMatching(/^acme\.json\.attrs\.torn-\d+$/),
    ]);
    // Whole attributes are left alone.
    const whole = stacksDir({ "acme.json": good(2), "acme.json.attrs": attributes });
    expect(repairTornCheckpoint(whole, "acme")).toBe("intact");
    expect(readFileSync(join(whole, "acme.json.attrs"), "utf8")).toBe(attributes);
  });

  it("reports a torn checkpoint without a usable backup as unrecoverable and changes nothing", () => {
    const dir = stacksDir({ "acme.json": "", "acme.json.bak": "{" });
    expect(repairTornCheckpoint(dir, "acme")).toBe("unrecoverable");
    expect(readFileSync(join(dir, "acme.json"), "utf8")).toBe("");
  });
});
