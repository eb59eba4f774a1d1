import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { DotenvError, loadDotenv, parseDotenv } from "./dotenv.ts";

describe(".env", () => {
  it("reads NAME=value lines the way operators write them, with no interpolation", () => {
    const values = parseDotenv(
      [
        "# comment",
        "",
        "PLAIN=abc",
        "export EXPORTED=1",
        "SPACED = padded value  # trailing comment",
        "SINGLE='$HOME stays # literal'",
        'DOUBLE="line1\\nline2 \\"quoted\\" \\\\"',
        "EMPTY=",
        "URL=postgres://u:p@h:5432/db?sslmode=require",
      ].join("\n"),
    );
    expect(Object.fromEntries(values)).toEqual({
      PLAIN: "abc",
      EXPORTED: "1",
      SPACED: "padded value",
      SINGLE: "$HOME stays # literal",
      DOUBLE: 'line1\nline2 "quoted" \\',
      EMPTY: "",
      URL: "postgres://u:p@h:5432/db?sslmode=require",
    });
  });

  it("names the line of a malformed entry, never its value", () => {
    expect(() => parseDotenv("GOOD=1\nnot a pair sk_live_secret\n")).toThrow(".env line 2 is not NAME=value");
    expect(() => parseDotenv("KEY='sk_live_secret\n")).toThrow(/line 1: KEY's quote is not closed$/);
    expect(() => parseDotenv("1BAD=x")).toThrow(DotenvError);
  });

  it("fills only what the environment lacks, and says what it set", () => {
    const dir = mkdtempSync(join(tmpdir(), "dotenv-"));
    writeFileSync(join(dir, ".env"), "A=from-file\nB=from-file\n");
    const env: NodeJS.ProcessEnv = { A: "from-env" };
    const loaded = loadDotenv(env, dir);
    expect(env).toEqual({ A: "from-env", B: "from-file" });
    expect([...loaded.applied]).toEqual(["B"]);
    expect([...loaded.names]).toEqual(["A", "B"]);
    expect(loadDotenv({}, join(dir, "nowhere")).path).toBeUndefined();
    expect(() => loadDotenv({ MINDROOM_ENV_FILE: "missing.env" }, dir)).toThrow(/does not exist/);
  });
});
