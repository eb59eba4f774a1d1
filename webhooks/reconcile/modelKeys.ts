/**
 * The model provider keys a tenant's runtime gets: the customer's own (sealed
 * in the database, opened here with the worker's key), and for providers
 * without one, the key the operator manages for the tenant's tier
 * (`MINDROOM_MANAGED_PROVIDER_KEYS`). Plus a revision that changes whenever
 * any of them does, folded into the spec hash: a replaced key is something to
 * apply even though the spec (which holds no secrets) did not change.
 */
import { createHash } from "node:crypto";
import { PROVIDER_ENV, type Provider } from "../../components/modelProviders.ts";
import type { TierId } from "../../components/tiers.ts";
import type { Queryable } from "../../database/connection.ts";
import { sealedProviderKeys } from "../../database/providerKeys.ts";
import { open, type SealingKeyPair } from "../../database/sealedSecrets.ts";

/** Operator-managed keys per tier: tier → provider → key. */
export type ManagedProviderKeys = Readonly<
  Partial<Record<TierId, Readonly<Partial<Record<Provider, string>>>>>
>;

export interface TenantModelKeys {
  /** The runtime's variable name → key. */
  readonly env: Readonly<Record<string, string>>;
  /** Changes with any key; null without keys (the spec hash then stays the spec's own). */
  readonly revision: string | null;
}

const sha256 = (s: string) => createHash("sha256").update(s).digest("hex");

export async function tenantModelKeys(
  db: Queryable,
  customerId: string,
  tier: TierId,
  settings: { readonly sealing: SealingKeyPair; readonly managed: ManagedProviderKeys },
): Promise<TenantModelKeys> {
  const env: Record<string, string> = {};
  const parts: string[] = [];
  for (const key of await sealedProviderKeys(db, customerId)) {
    env[PROVIDER_ENV[key.provider]] = open(settings.sealing, key.sealed);
    parts.push(`customer:${key.provider}:${sha256(key.sealed)}`);
  }
  for (const [provider, value] of Object.entries(settings.managed[tier] ?? {}) as [Provider, string][]) {
    const name = PROVIDER_ENV[provider];
    if (name in env || !value) continue;
    env[name] = value;
    parts.push(`managed:${provider}:${sha256(value)}`);
  }
  return { env, revision: parts.length ? sha256(parts.sort().join("\n")) : null };
}

/** The hash the worker compares: the spec's own, or, with keys, the spec's and the keys' revision together. */
export function hashWithKeys(specHash: string, keys: TenantModelKeys): string {
  return keys.revision === null ? specHash : sha256(`${specHash}\n${keys.revision}`);
}

/** `MINDROOM_MANAGED_PROVIDER_KEYS`: `<tier>:<provider>=<key>` entries, comma-separated. */
export function parseManagedProviderKeys(
  raw: string,
  isTier: (t: string) => t is TierId,
): ManagedProviderKeys {
  const managed: Partial<Record<TierId, Partial<Record<Provider, string>>>> = {};
  for (const entry of raw
    .split(",")
    .map((e) => e.trim())
    .filter(Boolean)) {
    const match = /^([a-z]+):([a-z]+)=(\S+)$/.exec(entry);
    const [, tierId = "", provider = "", key = ""] = match ?? [];
    if (!match || !isTier(tierId) || !(provider in PROVIDER_ENV))
      // The entry holds a key: never echo it.
      throw new Error(
        "MINDROOM_MANAGED_PROVIDER_KEYS entries must be <tier>:<openai|anthropic|openrouter|google>=<key>",
      );
    managed[tierId] = { ...managed[tierId], [provider as Provider]: key };
  }
  return managed;
}
