import { describe, expect, it } from "vitest";
import { sampleSpec } from "../../testing/tenantSamples.ts";
import { TIER_IDS, tier, UNLIMITED } from "../tiers.ts";
import { MINDROOM_CONFIG_SCHEMA, schemaProblems } from "./schemaCheck.ts";
import { AGENT_TEMPLATES, mindroomConfig } from "./template.ts";

describe("the MindRoom config a tenant starts from", () => {
  it("was read from the pinned wheel's models", () => {
    expect(MINDROOM_CONFIG_SCHEMA["x-mindroom-version"]).toBe("2026.10.589");
    expect(MINDROOM_CONFIG_SCHEMA["x-unresolved"]).toEqual([]);
  });

  it.each(TIER_IDS)("uses only fields MindRoom's config models define, on the %s tier", (id) => {
    const config = mindroomConfig(sampleSpec({ tier: id }));
    expect(schemaProblems(config)).toEqual([]);
    const limit = tier(id).agents;
    const agents = Object.keys(config.agents as object);
    expect(agents.length).toBe(limit === UNLIMITED ? AGENT_TEMPLATES.length : limit);
    expect(new Set(agents).size).toBe(agents.length);
  });

  it("is checked for real: unknown fields, wrong types and missing required fields are refused", () => {
    const config = mindroomConfig(sampleSpec());
    expect(schemaProblems({ ...config, agent_count: 3 })).toEqual([
      "$.agent_count: not a field the model defines",
    ]);
    expect(schemaProblems({ ...config, agents: { a: { display_name: "A", temperature: 0.3 } } })).toEqual([
      "$.agents.a.temperature: not a field the model defines",
    ]);
    expect(schemaProblems({ ...config, models: { default: { provider: "openai" } } })).toEqual([
      "$.models.default: missing required field id",
    ]);
    expect(schemaProblems({ ...config, timezone: 3 })[0]).toMatch(/^\$\.timezone: expected string/);
    expect(schemaProblems({ ...config, router: { model: "default", judgment: { backend: 1 } } })[0]).toMatch(
      /^\$\.router\.judgment: matches none of/,
    );
  });
});
