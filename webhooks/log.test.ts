import { describe, expect, it } from "vitest";
import { REDACTED, redact, redactString } from "../logging/redact.ts";
import { createLogger } from "./log.ts";

function capture() {
  const lines: string[] = [];
  return { lines, stream: { write: (line: string) => lines.push(line) > 0 } };
}

describe("createLogger", () => {
  it("writes one JSON object per line with time, level, msg and bound fields", () => {
    const { lines, stream } = capture();
    const log = createLogger({ stream }).child({ component: "ingest" });
    log.info("request", { status: 200 });
    expect(lines).toHaveLength(1);
    expect(lines[0]?.endsWith("\n")).toBe(true);
    const line = JSON.parse(lines[0] ?? "");
    expect(line).toMatchObject({ level: "info", msg: "request", component: "ingest", status: 200 });
    expect(new Date(line.time).toISOString()).toBe(line.time);
  });

  it("drops lines below the configured level", () => {
    const { lines, stream } = capture();
    const log = createLogger({ stream, level: "warn" });
    log.debug("a");
    log.info("b");
    log.warn("c");
    log.error("d");
    expect(lines.map((l) => JSON.parse(l).msg)).toEqual(["c", "d"]);
  });

  it("never writes secrets: by field name, and by value wherever they appear", () => {
    const { lines, stream } = capture();
    const log = createLogger({ stream });
    log.error("failure", {
      headers: { "stripe-signature": "t=1,v1=abc" },
      webhookSecret: "whsec_abc123",
      nested: { apiKey: "x", password: "hunter2" },
      error: new Error(
        "connect to postgres://app:s3cret@db:5432/x failed with key sk_live_abcdef and whsec_zzz",
      ),
      note: "Authorization: Bearer eyJhbGciOi.abc.def",
    });
    const text = lines.join("");
    for (const secret of [
      "t=1,v1=abc",
      "whsec_abc123",
      "hunter2",
      "s3cret",
      "sk_live_abcdef",
      "whsec_zzz",
      "eyJhbGciOi",
    ])
      expect(text).not.toContain(secret);
    const line = JSON.parse(text);
    expect(line.headers).toBe(REDACTED);
    expect(line.nested).toEqual({ apiKey: REDACTED, password: REDACTED });
    expect(line.error.message).toBe(
      `connect to postgres://app:${REDACTED}@db:5432/x failed with key sk_live_${REDACTED} and whsec_${REDACTED}`,
    );
  });
});

describe("redact", () => {
  it("keeps ordinary values and survives cycles", () => {
    const value: Record<string, unknown> = { id: "evt_1", count: 3, at: new Date(0) };
    value.self = value;
    expect(redact(value)).toEqual({ id: "evt_1", count: 3, at: "1970-01-01T00:00:00.000Z", self: "[…]" });
    expect(redactString("cus_123 evt_456")).toBe("cus_123 evt_456");
  });
});
