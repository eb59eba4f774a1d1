import type { PolicyPackOptions } from "../tenantStacks.ts";

/** The pool hands its policy pack options to workers in this variable (JSON). */
export const POLICY_PACK_ENV = "MINDROOM_POLICY_PACK_OPTIONS";

export function policyPackToEnv(options: PolicyPackOptions | undefined): Record<string, string> {
  return options ? { [POLICY_PACK_ENV]: JSON.stringify(options) } : {};
}

export function policyPackFromEnv(env: NodeJS.ProcessEnv = process.env): PolicyPackOptions | undefined {
  const raw = env[POLICY_PACK_ENV];
  return raw ? (JSON.parse(raw) as PolicyPackOptions) : undefined;
}
