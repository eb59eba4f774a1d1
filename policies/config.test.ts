import { describe, expect, it } from "vitest";
import { PolicyConfigError, readConfig } from "./config.ts";

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
