import type { StepEventMetadata } from "@pulumi/pulumi/automation/index.js";
import { describe, expect, it } from "vitest";
import { REDACTED } from "../logging/redact.ts";
import { changeLines, formatValue } from "./diffText.ts";
import { maskValue, parsePropertyPath, propertyChanges, valueAt } from "./propertyDiff.ts";

const state = (inputs: Record<string, unknown>, outputs: Record<string, unknown> = inputs) =>
  ({ type: "command:remote:Command", urn: "u", id: "x", parent: "", provider: "", inputs, outputs }) as never;

function step(partial: Partial<StepEventMetadata>): StepEventMetadata {
  return {
    op: "update",
    urn: "u",
    type: "command:remote:Command",
    provider: "",
    ...partial,
  } as StepEventMetadata;
}

describe("property paths", () => {
  it("parses Pulumi's property path syntax and reads values by it", () => {
    expect(parsePropertyPath("connection.host")).toEqual(["connection", "host"]);
    expect(parsePropertyPath('triggers[0]["a.b"].c')).toEqual(["triggers", 0, "a.b", "c"]);
    const root = { triggers: [{ "a.b": { c: 7 } }], connection: { host: "h" } };
    expect(valueAt(root, 'triggers[0]["a.b"].c')).toBe(7);
    expect(valueAt(root, "connection.port")).toBeUndefined();
    expect(valueAt(root, "missing.deep[3]")).toBeUndefined();
  });
});

describe("propertyChanges", () => {
  it("gives old and new values of every changed property, secrets masked", () => {
    const changes = propertyChanges(
      step({
        old: state({
          create: "dokku resource:limit --memory 512 app",
          connection: { host: "10.0.0.1", privateKey: "[secret]", password: "hunter2" },
          environment: { DATABASE_URL: "postgres://app:s3cret@db/x" },
          triggers: ["a"],
        }),
        new: state({
          create: "dokku resource:limit --memory 1024 app",
          connection: { host: "10.0.0.2", privateKey: "[secret]", password: "hunter3" },
          environment: { DATABASE_URL: "postgres://app:n3w@db/x", STRIPE_KEY: "sk_live_abcdef" },
        }),
        detailedDiff: {
          create: { diffKind: "update", inputDiff: true },
          "connection.host": { diffKind: "update", inputDiff: true },
          "connection.privateKey": { diffKind: "update", inputDiff: true },
          "connection.password": { diffKind: "update", inputDiff: true },
          "environment.DATABASE_URL": { diffKind: "update", inputDiff: true },
          "environment.STRIPE_KEY": { diffKind: "add", inputDiff: true },
          "triggers[0]": { diffKind: "delete-replace", inputDiff: true },
        } as never,
      }),
    );
    expect(changes).toEqual([
      {
        path: "create",
        kind: "update",
        old: "dokku resource:limit --memory 512 app",
        new: "dokku resource:limit --memory 1024 app",
      },
      { path: "connection.host", kind: "update", old: "10.0.0.1", new: "10.0.0.2" },
      { path: "connection.privateKey", kind: "update", old: "[secret]", new: "[secret]" },
      { path: "connection.password", kind: "update", old: REDACTED, new: REDACTED },
      {
        path: "environment.DATABASE_URL",
        kind: "update",
        old: `postgres://app:${REDACTED}@db/x`,
        new: `postgres://app:${REDACTED}@db/x`,
      },
      { path: "environment.STRIPE_KEY", kind: "add", new: `sk_live_${REDACTED}` },
      { path: "triggers[0]", kind: "delete-replace", old: "a" },
    ]);
    const text = JSON.stringify(changes);
    for (const secret of ["hunter2", "hunter3", "s3cret", "n3w", "sk_live_abcdef"])
      expect(text).not.toContain(secret);
  });

  it("reads a diff against state from the old outputs", () => {
    const changes = propertyChanges(
      step({
        old: state({ stdout: "in" }, { stdout: "was" }),
        new: state({ stdout: "now" }),
        detailedDiff: { stdout: { diffKind: "update", inputDiff: false } } as never,
      }),
    );
    expect(changes).toEqual([{ path: "stdout", kind: "update", old: "was", new: "now" }]);
  });

  it("lists every input a create sets and a delete removes", () => {
    const key = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaA\n-----END OPENSSH PRIVATE KEY-----";
    expect(propertyChanges(step({ op: "create", new: state({ create: "x", note: key }) }))).toEqual([
      { path: "create", kind: "add", new: "x" },
      { path: "note", kind: "add", new: `${REDACTED} private key` },
    ]);
    expect(propertyChanges(step({ op: "delete", old: state({ delete: "y" }) }))).toEqual([
      { path: "delete", kind: "delete", old: "y" },
    ]);
    expect(propertyChanges(step({ op: "same" }))).toEqual([]);
  });

  it("shows the engine's serialized secrets as the placeholder, whole or inside a path", () => {
    const secret = {
      "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270",
      ciphertext: "[secret]",
    };
    expect(
      propertyChanges(
        step({
          old: state({ connection: secret, stdin: "a" }),
          new: state({ connection: secret, stdin: { nested: [secret] } }),
          detailedDiff: {
            connection: { diffKind: "update", inputDiff: true },
            "connection.host": { diffKind: "update", inputDiff: true },
            stdin: { diffKind: "update", inputDiff: true },
          } as never,
        }),
      ),
    ).toEqual([
      { path: "connection", kind: "update", old: "[secret]", new: "[secret]" },
      { path: "connection.host", kind: "update", old: "[secret]", new: "[secret]" },
      { path: "stdin", kind: "update", old: "a", new: { nested: ["[secret]"] } },
    ]);
  });

  it("masks whole values under secret-named keys, nested ones too", () => {
    expect(maskValue("connection", { host: "h", privateKey: "k" })).toEqual({
      host: "h",
      privateKey: REDACTED,
    });
    expect(maskValue('headers["Authorization"]', "Bearer abc")).toBe(REDACTED);
  });
});

describe("diff text", () => {
  it("shows short values on one line and scripts as a line diff around the change", () => {
    expect(formatValue("a")).toBe('"a"');
    expect(changeLines("a", "b")).toEqual([{ sign: "~", text: '"a" ⇒ "b"' }]);
    expect(changeLines(undefined, 3)).toEqual([{ sign: "+", text: "3" }]);
    expect(changeLines({ a: 1 }, undefined)).toEqual([{ sign: "-", text: '{"a":1}' }]);
    const before = ["set -e", "a", "b", "c", "memory 512", "d", "e", "f"].join("\n");
    const after = ["set -e", "a", "b", "c", "memory 1024", "d", "e", "f"].join("\n");
    expect(changeLines(before, after)).toEqual([
      { sign: " ", text: "… 2 unchanged lines" },
      { sign: " ", text: "b" },
      { sign: " ", text: "c" },
      { sign: "-", text: "memory 512" },
      { sign: "+", text: "memory 1024" },
      { sign: " ", text: "d" },
      { sign: " ", text: "e" },
      { sign: " ", text: "… 1 unchanged line" },
    ]);
  });
});
