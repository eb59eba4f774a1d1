/**
 * The model providers a customer (or the operator, per tier) can give the
 * runtime a key for, and the environment variable the runtime reads each from
 * (mindroom/constants.py's PROVIDER_ENV_KEYS). Keys are secrets: they reach
 * the runtime only as Pulumi secrets in its config (tenantProgram.ts
 * `providerKeys`), never in the spec.
 */
export const PROVIDERS = ["openai", "anthropic", "openrouter", "google"] as const;
export type Provider = (typeof PROVIDERS)[number];

export const PROVIDER_LABELS: { readonly [P in Provider]: string } = {
  openai: "OpenAI",
  anthropic: "Anthropic",
  openrouter: "OpenRouter",
  google: "Google (Gemini)",
};

export const PROVIDER_ENV: { readonly [P in Provider]: string } = {
  openai: "OPENAI_API_KEY",
  anthropic: "ANTHROPIC_API_KEY",
  openrouter: "OPENROUTER_API_KEY",
  google: "GOOGLE_API_KEY",
};

export function isProvider(value: string): value is Provider {
  return (PROVIDERS as readonly string[]).includes(value);
}

/**
 * The runtime's provider variables, every one of them: a key the customer has not set (or removed)
 * is empty. Dokku's config:import merges, so a variable left out would keep a removed key alive.
 * Only these names may carry provider keys into the runtime's environment.
 */
export function providerKeyEnvironment(keys: Readonly<Record<string, string>>): Record<string, string> {
  const allowed = Object.values(PROVIDER_ENV);
  const env: Record<string, string> = Object.fromEntries(allowed.map((name) => [name, ""]));
  for (const [name, value] of Object.entries(keys)) {
    if (!allowed.includes(name))
      throw new Error(`providerKeys: ${name} is not a provider key variable (${allowed.join(", ")})`);
    env[name] = value.trim();
  }
  return env;
}
