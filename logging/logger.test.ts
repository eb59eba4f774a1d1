import { describe, expect, it } from "vitest";
import { createLogger, logFormatFromEnv } from "./logger.ts";
import { prettyLine } from "./prettyLines.ts";
import { REDACTED, redact, redactString } from "./redact.ts";

function capture(isTTY = false) {
  const lines: string[] = [];
  return { lines, stream: { isTTY, write: (line: string) => lines.push(line) > 0 } };
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

describe("errors and formats", () => {
  it("keeps an error's stack and cause, masked like the message", () => {
    const { lines, stream } = capture();
    const cause = new Error("socket closed");
    const error = new Error("reconcile of cus_1 failed (postgres://u:pw@db/x)", { cause });
    createLogger({ stream }).error("reconcile failed", { error });
    const line = JSON.parse(lines[0] ?? "");
    expect(line.error.stack).toMatch(
      /^Error: reconcile of cus_1 failed \(postgres:\/\/u:\[redacted\]@db\/x\)\n\s+at /,
    );
    expect(line.error.stack).toContain("logger.test.ts");
    expect(line.error.cause).toMatchObject({ name: "Error", message: "socket closed" });
    expect(lines.join("")).not.toContain(":pw@");
  });

  it("writes readable lines to a terminal (JSON elsewhere), the stack indented below", () => {
    const tty = capture(true);
    const log = createLogger({ stream: tty.stream, fields: { service: "webhooks" } });
    log.warn("slow", { ms: 1200, error: new Error("boom") });
    // biome-ignore lint/suspicious/noControlCharactersInRegex: the level may be coloured (a terminal).
    const text = tty.lines[0]?.replace(/\u001b\[[0-9;]*m/g, "");
    expect(text).toMatch(
      /^\d{2}:\d{2}:\d{2}\.\d{3} WARN {2}slow service=webhooks ms=1200 error=\{"name":"Error","message":"boom"\}\n {4}Error: boom\n {8}at /,
    );
    const pipe = capture(false);
    createLogger({ stream: pipe.stream }).info("x");
    expect(JSON.parse(pipe.lines[0] ?? "")).toMatchObject({ level: "info", msg: "x" });
    const forced = capture(true);
    createLogger({ stream: forced.stream, format: "json" }).info("y");
    expect(JSON.parse(forced.lines[0] ?? "")).toMatchObject({ msg: "y" });
  });

  it("colours the level only when asked, and passes non-JSON through", () => {
    const line = JSON.stringify({ time: "2026-01-01T12:00:01.234Z", level: "error", msg: "m" });
    expect(prettyLine(line, false)).toBe("12:00:01.234 ERROR m");
    expect(prettyLine(line, true)).toBe("12:00:01.234 \u001b[31mERROR\u001b[0m m");
    expect(prettyLine("not json", true)).toBe("not json");
  });

  it("reads MINDROOM_LOG_FORMAT", () => {
    expect(logFormatFromEnv({})).toBe("auto");
    expect(logFormatFromEnv({ MINDROOM_LOG_FORMAT: "json" })).toBe("json");
    expect(() => logFormatFromEnv({ MINDROOM_LOG_FORMAT: "xml" })).toThrow(/json, pretty or auto/);
  });
});
