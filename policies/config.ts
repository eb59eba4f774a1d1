/**
 * The pack's configuration: what the platform is (its base domain, its Dokku
 * hosts, its environment, a fingerprint of its root secret), never constants in
 * the policies. CrossGuard hands each policy only its own section of the config
 * file, so every policy declares the keys it reads (see {@link configSchema}) and
 * `policyPackOptions` writes each section from one {@link PackConfig}.
 */
import type { PolicyConfigSchema } from "@pulumi/policy";
import { ENVIRONMENTS, type Environment } from "../components/environments.ts";
import type { KnownHost } from "../components/hostPool.ts";

/** One property of a policy's config schema (JSON Schema), as `PolicyConfigSchema` holds them. */
type PropertySchema = PolicyConfigSchema["properties"][string];

export interface PackConfig {
  /** Every tenant domain sits under it (`MINDROOM_BASE_DOMAIN`). */
  readonly baseDomain: string;
  /** The platform environment; when it is production, production rules hold for every tenant. */
  readonly environment: Environment;
  /** The Dokku hosts tenants may live on. */
  readonly hosts: readonly KnownHost[];
  /** SHA-256 (hex) of the platform's root secret: enough to recognise it, useless to recover it. */
  readonly rootSecretSha256: string;
  /** The root secret's length in characters (the window the pack hashes). */
  readonly rootSecretLength: number;
}

export type ConfigKey = keyof PackConfig;

const SCHEMAS: { readonly [K in ConfigKey]: PropertySchema } = {
  baseDomain: {
    type: "string",
    pattern: "^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$",
    description: "The platform's base domain; tenants get <slug>.<base>",
  },
  environment: {
    type: "string",
    enum: [...ENVIRONMENTS],
    description: "The platform environment this pack guards",
  },
  hosts: {
    type: "array",
    minItems: 1,
    description: "The Dokku hosts tenants may be placed on",
    items: {
      type: "object",
      additionalProperties: false,
      required: ["url", "address", "memoryMb", "cpus", "proxied"],
      properties: {
        url: { type: "string", pattern: "^ssh://[a-z_][a-z0-9_-]*@[^@:/]+:[0-9]{1,5}$" },
        address: { type: "string", minLength: 1 },
        memoryMb: { type: "integer", minimum: 1 },
        cpus: { type: "number", minimum: 0.01 },
        proxied: { type: "boolean" },
      },
    },
  },
  rootSecretSha256: {
    type: "string",
    pattern: "^[a-f0-9]{64}$",
    description: "SHA-256 (hex) of the root secret",
  },
  rootSecretLength: { type: "integer", minimum: 32, description: "Length of the root secret in characters" },
};

/** The config schema of a policy that reads `keys`: each one required, none defaulted. */
export function configSchema(keys: readonly ConfigKey[]): PolicyConfigSchema | undefined {
  if (keys.length === 0) return undefined;
  return { properties: Object.fromEntries(keys.map((k) => [k, SCHEMAS[k]])), required: [...keys] };
}

/** The config keys a policy declares in its schema (what `policyPackOptions` writes for it). */
export function declaredKeys(schema: PolicyConfigSchema | undefined): ConfigKey[] {
  return Object.keys(schema?.properties ?? {}).filter((k): k is ConfigKey => k in SCHEMAS);
}

/** A policy ran without a key it declares: the engine validates the file, so only a bypass gets here. */
export class PolicyConfigError extends Error {
  override readonly name = "PolicyConfigError";
}

/**
 * The keys a policy declared, read from its config section. The engine has
 * checked them against the schema; this only refuses a missing one loudly
 * instead of letting a rule pass on `undefined`.
 */
export function readConfig<K extends ConfigKey>(
  keys: readonly K[],
  section: Partial<Record<string, unknown>>,
): Pick<PackConfig, K> {
  const missing = keys.filter((k) => section[k] === undefined);
  if (missing.length > 0) {
    throw new PolicyConfigError(
      `the policy pack config lacks ${missing.join(", ")} (pass --policy-pack-config, see README "Policies")`,
    );
  }
  // The engine validated each key against SCHEMAS before the pack ran.
  return Object.fromEntries(keys.map((k) => [k, section[k]])) as Pick<PackConfig, K>;
}
