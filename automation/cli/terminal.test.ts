import { describe, expect, it } from "vitest";
import { colorEnabled, colorFlag } from "./terminal.ts";

const tty = { isTTY: true };
const pipe = { isTTY: false };

describe("colour", () => {
  it("is on for a terminal and off for a pipe by default", () => {
    expect(colorEnabled(tty, {})).toBe(true);
    expect(colorEnabled(pipe, {})).toBe(false);
    expect(colorEnabled(tty, { TERM: "dumb" })).toBe(false);
  });

  it("follows NO_COLOR (set and non-empty) and FORCE_COLOR (set and not 0/false), FORCE_COLOR first", () => {
    expect(colorEnabled(tty, { NO_COLOR: "1" })).toBe(false);
    expect(colorEnabled(tty, { NO_COLOR: "" })).toBe(true);
    expect(colorEnabled(pipe, { FORCE_COLOR: "1" })).toBe(true);
    expect(colorEnabled(pipe, { FORCE_COLOR: "" })).toBe(true);
    expect(colorEnabled(tty, { FORCE_COLOR: "0" })).toBe(false);
    expect(colorEnabled(tty, { FORCE_COLOR: "false" })).toBe(false);
    expect(colorEnabled(pipe, { FORCE_COLOR: "1", NO_COLOR: "1" })).toBe(true);
  });

  it("gives an explicit flag the last word", () => {
    expect(colorEnabled(tty, { FORCE_COLOR: "1" }, "never")).toBe(false);
    expect(colorEnabled(pipe, { NO_COLOR: "1" }, "always")).toBe(true);
    expect(colorFlag({ "no-color": true, color: "always" })).toBe("never");
    expect(colorFlag({ color: "always" })).toBe("always");
    expect(colorFlag({})).toBe("auto");
    expect(() => colorFlag({ color: "purple" })).toThrow(/--color must be always, never or auto/);
  });
});
