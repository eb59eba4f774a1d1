import { describe, expect, it } from "vitest";
import {
  checkArgument,
  DokkuArgumentError,
  dokkuCommandLine,
  encodeConfigValue,
  isGitCommand,
  quote,
} from "./commandLine.ts";

describe("quote", () => {
  it.each([
    ["mr-acme", "mr-acme"],
    ["K=a.b/c:d,e@f%g+h", "K=a.b/c:d,e@f%g+h"],
    ["a b", "'a b'"],
    ["it's", "'it'\\''s'"],
    ["$(id)", "'$(id)'"],
    ["", "''"],
    ['"x"', "'\"x\"'"],
    ["0 */6 * * *", "'0 */6 * * *'"],
  ])("%j → %s", (input, expected) => {
    expect(quote(input)).toBe(expected);
  });
});

describe("checkArgument", () => {
  it.each(["-n", "-e", "-E", "-ne", "-en", "--help", "--version"])(
    "refuses %j, which echo would swallow",
    (arg) => {
      expect(() => checkArgument(arg, false)).toThrow(DokkuArgumentError);
    },
  );
  it.each(["a\nb", "a\rb", "a\tb", "a\0b"])("refuses control characters in %j", (arg) => {
    expect(() => checkArgument(arg, false)).toThrow(/control characters/);
  });
  it("accepts flags Dokku commands take", () => {
    expect(() => checkArgument("--no-restart", false)).not.toThrow();
    expect(() => checkArgument("-i", false)).not.toThrow();
  });
  it("refuses whitespace and quotes for git:* commands only", () => {
    expect(() => checkArgument("Jane Doe", true)).toThrow(/git:\* commands/);
    expect(() => checkArgument("it's", true)).toThrow(/git:\* commands/);
    expect(() => checkArgument("Jane Doe", false)).not.toThrow();
    expect(() => checkArgument("ghcr.io/mindroom-ai/mindroom@sha256:abc", true)).not.toThrow();
  });
});

describe("isGitCommand", () => {
  it("matches every word Dokku's unanchored regex matches", () => {
    expect(isGitCommand("git:from-image")).toBe(true);
    expect(isGitCommand("git-receive-pack")).toBe(true);
    expect(isGitCommand("apps:create")).toBe(false);
  });
});

describe("dokkuCommandLine", () => {
  it("puts global flags first and never quotes the command word", () => {
    expect(dokkuCommandLine("config:set", ["--no-restart", "app", "K=a b"], ["--quiet"])).toBe(
      "--quiet config:set --no-restart app 'K=a b'",
    );
  });
  it("refuses a command word that is not one", () => {
    expect(() => dokkuCommandLine("apps:create; rm -rf /", [])).toThrow(/not a Dokku command word/);
    expect(() => dokkuCommandLine("'apps:create'", [])).toThrow(DokkuArgumentError);
  });
  it("checks every argument", () => {
    expect(() => dokkuCommandLine("apps:create", ["ok", "bad\nvalue"])).toThrow(DokkuArgumentError);
  });
  it("names the offending argument in the error", () => {
    try {
      dokkuCommandLine("logs", ["app", "-n"]);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(DokkuArgumentError);
      expect((error as DokkuArgumentError).argument).toBe("-n");
    }
  });
});

describe("encodeConfigValue", () => {
  it("is standard base64 of the UTF-8 bytes, round-tripping any value", () => {
    for (const value of ["", "a b", "it's", "$(id)", "line1\nline2", "ünïcødé", "=+/"]) {
      const encoded = encodeConfigValue(value);
      expect(encoded).toMatch(/^[A-Za-z0-9+/]*={0,2}$/);
      expect(Buffer.from(encoded, "base64").toString("utf8")).toBe(value);
    }
  });
});
