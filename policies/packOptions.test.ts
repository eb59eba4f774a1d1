import { accessSync, constants, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { SAMPLE_ROOT_SECRET } from "../testing/tenantSamples.ts";
import { declaredKeys } from "./config.ts";
import { ANALYZER_PATH, policyPackConfig, policyPackOptions } from "./packOptions.ts";
import { policies } from "./policies.ts";
import { fingerprintOf } from "./secretMaterial.ts";
import { sampleSettings } from "./testing/samples.ts";

const directory = mkdtempSync(join(tmpdir(), "mindroom-pack-options-"));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

describe("policyPackConfig", () => {
  const config = policyPackConfig(sampleSettings());

  it("gives each policy exactly the keys its config schema declares, all of them required", () => {
    for (const policy of policies) {
      const keys = declaredKeys(policy.configSchema);
      expect(Object.keys(config[policy.name] ?? {}).sort(), policy.name).toEqual([...keys].sort());
      expect(policy.configSchema?.required?.slice().sort() ?? [], policy.name).toEqual([...keys].sort());
    }
    expect(Object.keys(config).sort()).toEqual(
      policies
        .filter((p) => p.configSchema)
        .map((p) => p.name)
        .sort(),
    );
  });

  it("carries the root secret's fingerprint, never the secret", () => {
    const text = JSON.stringify(config);
    expect(text).not.toContain(SAMPLE_ROOT_SECRET);
    expect(config["root-secret-stays-out"]).toEqual({
      rootSecretSha256: fingerprintOf(SAMPLE_ROOT_SECRET).sha256,
      rootSecretLength: SAMPLE_ROOT_SECRET.length,
    });
  });
});

describe("policyPackOptions", () => {
  it("names the analyzer and one config file, private to its owner", () => {
    const options = policyPackOptions(sampleSettings(), directory);
    expect(options.policyPacks).toEqual([ANALYZER_PATH]);
    accessSync(ANALYZER_PATH, constants.X_OK);
    const [file] = options.policyPackConfigs;
    if (!file) throw new Error("no config file");
    expect(JSON.parse(readFileSync(file, "utf8"))).toEqual(policyPackConfig(sampleSettings()));
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it("writes one file per distinct config (concurrent operations share it)", () => {
    const a = policyPackOptions(sampleSettings(), directory).policyPackConfigs[0];
    const b = policyPackOptions(sampleSettings(), directory).policyPackConfigs[0];
    const c = policyPackOptions(sampleSettings({ environment: "production" }), directory)
      .policyPackConfigs[0];
    expect(a).toBe(b);
    expect(c).not.toBe(a);
  });
});
