/**
 * The benchmark's own arithmetic and script plumbing: a wrong union or a floor
 * script that swallowed its own stdin would silently produce wrong figures.
 */
import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { concatenate, forSlug } from "./floor.ts";
import { median, mergeIntervals, percentile, unionLength } from "./stats.ts";

describe("intervals", () => {
  it("counts overlapping time once and gaps not at all", () => {
    const spans = [
      { start: 0, end: 10 },
      { start: 5, end: 12 },
      { start: 20, end: 25 },
      { start: 25, end: 26 },
      { start: 30, end: 30 },
    ];
    expect(unionLength(spans)).toBe(12 + 6);
    expect(mergeIntervals(spans)).toEqual([
      { start: 0, end: 12 },
      { start: 20, end: 26 },
    ]);
    expect(unionLength([])).toBe(0);
  });

  it("takes the middle value, or the mean of the two middle ones", () => {
    expect(median([30, 10, 20])).toBe(20);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBeNaN();
  });

  it("takes the nearest-rank percentile: p50 and p95 of ten values are the 5th and the 10th", () => {
    const ten = [10, 20, 30, 40, 50, 60, 70, 80, 90, 100];
    expect(percentile(ten, 50)).toBe(50);
    expect(percentile(ten, 95)).toBe(100);
    expect(percentile(ten, 0)).toBe(10);
    expect(percentile([7], 95)).toBe(7);
    expect(percentile([], 50)).toBeNaN();
  });
});

describe("floor scripts", () => {
  it("moves every name of a tenant to another slug, and nothing else", () => {
    const [moved] = forSlug(
      [
        {
          name: "tenant-runtime-app",
          create: "dokku apps:create mr-lat-1 && dokku domains:set mr-lat-1 lat-1.mindroom.test # lat-10",
          stdin: '{"URL":"https://lat-1.api.mindroom.test"}',
        },
      ],
      "lat-1",
      "floor-one",
    );
    expect(moved?.create).toBe(
      "dokku apps:create mr-floor-one && dokku domains:set mr-floor-one floor-one.mindroom.test # lat-10",
    );
    expect(moved?.stdin).toBe('{"URL":"https://floor-one.api.mindroom.test"}');
  });

  it("feeds each script its own stdin, in order, and stops at the first failure", () => {
    const script = concatenate([
      { name: "a", script: "set -e\necho one" },
      { name: "b", script: 'set -e\nIFS= read -r V\necho "got $V"\ncat >/dev/null', stdin: "it's $HOME" },
      { name: "c", script: "set -e\ncat" },
      { name: "d", script: "set -e\nfalse\necho unreachable" },
      { name: "e", script: "echo never" },
    ]);
    const r = spawnSync("sh", ["-s"], { input: script, encoding: "utf8" });
    expect(r.status).not.toBe(0);
    // c reads /dev/null, not the rest of the script.
    expect(r.stdout).toBe("one\ngot it's $HOME\n");
    expect(r.stderr.trim().split("\n").at(-1)).toBe("@@bench d");
  });
});
