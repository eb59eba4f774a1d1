import { describe, expect, it } from "vitest";
import { findHost, hostPort, PolicyConfigError, readConfig } from "./config.ts";
import { SAMPLE_HOST } from "./testing/samples.ts";

describe("hosts", () => {
  it("identifies a machine by host and port, not by the SSH user", () => {
    expect(hostPort("ssh://root@127.0.0.1:2222")).toBe("127.0.0.1:2222");
    expect(hostPort("ssh://deploy@[2001:db8::1]:22")).toBe("2001:db8::1:22");
    expect(hostPort("https://example.com")).toBeUndefined();
    expect(findHost([SAMPLE_HOST], "ssh://admin@127.0.0.1:2222")).toBe(SAMPLE_HOST);
    expect(findHost([SAMPLE_HOST], "ssh://root@127.0.0.1:22")).toBeUndefined();
  });
});

describe("readConfig", () => {
  it("reads the declared keys", () => {
    expect(readConfig(["baseDomain"], { baseDomain: "mindroom.test", other: 1 })).toEqual({
      baseDomain: "mindroom.test",
    });
  });

  it("refuses to run a rule on a missing key", () => {
    expect(() => readConfig(["baseDomain", "hosts"], {})).toThrow(PolicyConfigError);
    expect(() => readConfig(["baseDomain", "hosts"], {})).toThrow(
      "the policy pack config lacks baseDomain, hosts",
    );
  });
});
