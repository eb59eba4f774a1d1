/**
 * Unit tests for the double's pure building blocks (no SSH, no state): the Go
 * base64 decoder, the godotenv parser, the pflag imitation and fault decisions.
 * Behaviour as a whole is tested over SSH in `dokku-double/*.test.ts`.
 */
import { describe, expect, it } from "vitest";
import { Base64Error, goBase64Decode } from "./base64.ts";
import { marshalEnvfile, parseEnvfile, prettyEnv } from "./envfile.ts";
import { UsageExit } from "./errors.ts";
import { decideFaults, emptyFaults, type FaultsFile } from "./faults.ts";
import { parseFlags } from "./flags.ts";
import { goMarshal } from "./goJson.ts";
import { splitShellWords } from "./shellWords.ts";

describe("goBase64Decode", () => {
  it.each([
    ["", ""],
    ["YQ==", "a"],
    ["YWI=", "ab"],
    ["YWJj", "abc"],
    ["YW\nJj", "abc"],
  ])("decodes %j", (input, expected) => {
    expect(goBase64Decode(input).toString("utf8")).toBe(expected);
  });

  it.each([
    ["ab*d", 2],
    ["abc", 0],
    ["YQ=", 3],
    ["YQ==YQ==", 4],
    ["=AAA", 0],
  ])("rejects %j at byte %i like Go", (input, offset) => {
    expect(() => goBase64Decode(input)).toThrow(new Base64Error(offset));
  });
});

describe("godotenv", () => {
  it("parses exports, quotes, comments and YAML-style pairs", () => {
    const text = 'export A="x\\ny"\n# c\nB=plain # note\nC: yaml\nD=\'single $A\'\nE="ref $B"\n';
    expect(parseEnvfile(text)).toEqual({ A: "x\ny", B: "plain", C: "yaml", D: "single $A", E: "ref plain" });
  });

  it("marshals integers bare and escapes double-quoted values", () => {
    expect(marshalEnvfile({ Z: "0042", A: 'say "hi" $HOME' })).toBe('A="say \\"hi\\" \\$HOME"\nZ=42');
  });

  it("lays out config lines in columns", () => {
    expect(prettyEnv("  ", { LONG_KEY: "1", K: "two" })).toBe("  K:         two\n  LONG_KEY:  1");
  });
});

describe("pflag imitation", () => {
  const spec = {
    name: "demo:cmd",
    flags: {
      format: { kind: "string" as const, usage: "format", default: "stdout" },
      force: { kind: "bool" as const, usage: "force" },
    },
  };

  it("takes flags anywhere and `--` ends them", () => {
    const parsed = parseFlags(spec, ["app", "--format", "json", "--force", "--", "--not-a-flag"]);
    expect(parsed.args).toEqual(["app", "--not-a-flag"]);
    expect(parsed.string("format")).toBe("json");
    expect(parsed.bool("force")).toBe(true);
  });

  it("rejects unknown flags with exit 2 and the usage", () => {
    const error = (() => {
      try {
        parseFlags(spec, ["--quiet"]);
      } catch (caught) {
        return caught;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(UsageExit);
    expect((error as UsageExit).exitCode).toBe(2);
    expect((error as UsageExit).text).toBe(
      'unknown flag: --quiet\nUsage of demo:cmd:\n      --force           force\n      --format string   format (default "stdout")\n',
    );
  });
});

describe("fault decisions", () => {
  const armed = (): FaultsFile => ({
    rules: [
      {
        id: "a",
        kind: "fail",
        nth: 2,
        seen: 0,
        match: { source: "app-1", flags: "" },
        exitCode: 9,
        stderr: "x",
      },
      { id: "b", kind: "drop", nth: 1, seen: 0, match: null, when: "after" },
    ],
    delays: [
      { ms: 50, match: { source: "^slow", flags: "" } },
      { ms: 70, match: { source: "slow", flags: "" } },
    ],
    holds: [{ id: "h", match: { source: "^git:from-image ", flags: "" }, reached: 0 }],
  });

  it("counts only matching commands and fires one rule per command", () => {
    const first = decideFaults(armed(), "apps:create app-1");
    expect(first.decision.action).toMatchObject({ kind: "drop", when: "after" });
    const second = decideFaults(first.next, "config:get app-1 K");
    expect(second.decision.action).toMatchObject({ kind: "fail", exitCode: 9 });
    expect(second.next.rules).toEqual([]);
    expect(decideFaults(second.next, "slow:thing").decision.delayMs).toBe(50);
    expect(decideFaults(second.next, "apps:create slow-app").decision.delayMs).toBe(70);
    expect(decideFaults(second.next, "apps:create fast-app").decision.delayMs).toBe(0);
    expect(decideFaults(emptyFaults(), "anything").decision).toEqual({
      action: { kind: "none" },
      delayMs: 0,
      holdId: null,
    });
  });

  it("holds matching commands and counts those that reached the hold", () => {
    const other = decideFaults(armed(), "apps:create app-2");
    expect(other.decision.holdId).toBeNull();
    expect(other.next.holds).toEqual(armed().holds);
    const first = decideFaults(armed(), "git:from-image app-2 img:1");
    expect(first.decision.holdId).toBe("h");
    const second = decideFaults(first.next, "git:from-image app-3 img:1");
    expect(second.decision.holdId).toBe("h");
    expect(second.next.holds).toEqual([{ ...armed().holds[0], reached: 2 }]);
  });
});

describe("small formats", () => {
  it("escapes JSON like Go", () => {
    expect(goMarshal({ html: "<a&b>" })).toBe('{"html":"\\u003ca\\u0026b\\u003e"}');
  });

  it("splits shell words without expanding anything", () => {
    expect(splitShellWords(`--label 'a b' "c \\"d\\"" $(id x) e\\ f`)).toEqual([
      "--label",
      "a b",
      'c "d"',
      "$(id x)",
      "e f",
    ]);
  });
});
