import { describe, expect, it } from "vitest";
import { providerKeyEnvironment } from "./modelProviders.ts";

describe("the runtime's provider key variables", () => {
  it("names every provider, empty where no key is set, so a removed key is cleared", () => {
    expect(providerKeyEnvironment({ OPENAI_API_KEY: "sk-one" })).toEqual({
      OPENAI_API_KEY: "sk-one",
      ANTHROPIC_API_KEY: "",
      OPENROUTER_API_KEY: "",
      GOOGLE_API_KEY: "",
    });
    expect(Object.values(providerKeyEnvironment({}))).toEqual(["", "", "", ""]);
  });

  it("refuses any other variable, so a key cannot overwrite the runtime's own settings", () => {
    expect(() => providerKeyEnvironment({ ACCOUNT_ID: "someone-else" })).toThrow(
      /ACCOUNT_ID is not a provider key variable/,
    );
  });
});
