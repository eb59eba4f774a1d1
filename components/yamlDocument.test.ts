import { describe, expect, it } from "vitest";
import { pyyaml } from "../testing/pyyaml.ts";
import { toYaml } from "./yamlDocument.ts";

describe("toYaml", () => {
  it("writes nested blocks that read back exactly as the data", () => {
    const data = {
      server_name: "acme.mindroom.test",
      port: 8008,
      ratio: 0.5,
      enabled: true,
      none: null,
      listeners: [{ port: 8008, resources: [{ names: ["client"], compress: false }] }, "plain"],
      empty: [],
      nothing: {},
      "weird key": { "@user:acme.test": "admin" },
    };
    expect(pyyaml(toYaml(data))).toEqual(data);
  });

  it("keeps hostile strings strings: no value changes the document's structure", () => {
    const data = {
      a: "x\nkey: injected",
      b: "- item",
      c: "yes",
      d: "null",
      e: "'quoted' \"double\" \\ back",
      f: "#comment",
      g: "{a: 1}",
      h: "ünïcødé ✓",
      i: "123",
    };
    expect(pyyaml(toYaml(data))).toEqual(data);
  });

  it("skips undefined fields", () => {
    expect(toYaml({ a: 1, b: undefined })).toBe("a: 1\n");
  });
});
