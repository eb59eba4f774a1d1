/**
 * How the automation layer applies the pack to every preview and update:
 *
 * ```ts
 * await stack.up({ ...policyPackOptions(settings), onEvent });
 * ```
 *
 * The config file holds, for each policy, the keys its `configSchema` declares
 * (CrossGuard gives a policy only its own section). It is written once per
 * distinct config under a content-derived name, so concurrent operations share
 * it safely, and it carries the root secret's fingerprint, never the secret.
 */
import { createHash } from "node:crypto";
import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { type ConfigKey, declaredKeys, type PackConfig } from "./config.ts";
import { policies } from "./policies.ts";
import { fingerprintOf } from "./secretMaterial.ts";

/** The executable the engine runs as the pack (see policies/analyzer). */
export const ANALYZER_PATH = resolve(import.meta.dirname, "analyzer");

/** What the platform knows; the pack's config is derived from it. */
export interface PolicySettings extends Omit<PackConfig, "rootSecretSha256" | "rootSecretLength"> {
  /** The platform's root secret: only its fingerprint is written. */
  readonly rootSecret: string;
}

export interface PolicyPackOptions {
  readonly policyPacks: string[];
  readonly policyPackConfigs: string[];
}

/** The pack config file's content: each policy's section, with exactly the keys it declares. */
export function policyPackConfig(settings: PolicySettings): Record<string, Partial<PackConfig>> {
  const { rootSecret, ...rest } = settings;
  const { sha256, length } = fingerprintOf(rootSecret);
  const config: PackConfig = { ...rest, rootSecretSha256: sha256, rootSecretLength: length };
  const section = (keys: ConfigKey[]): Partial<PackConfig> =>
    Object.fromEntries(keys.map((k) => [k, config[k]]));
  return Object.fromEntries(
    policies.flatMap((p) => {
      const keys = declaredKeys(p.configSchema);
      return keys.length > 0 ? [[p.name, section(keys)]] : [];
    }),
  );
}

/**
 * Options for `stack.preview`/`stack.up`: the pack, and its config written to
 * `directory` (default: `mindroom-policy` in the system's temp folder).
 */
export function policyPackOptions(
  settings: PolicySettings,
  directory = join(tmpdir(), "mindroom-policy"),
): PolicyPackOptions {
  const text = `${JSON.stringify(policyPackConfig(settings), null, 2)}\n`;
  const file = join(directory, `${createHash("sha256").update(text).digest("hex").slice(0, 16)}.json`);
  mkdirSync(directory, { recursive: true, mode: 0o700 });
  // Write then rename: a concurrent reader sees the whole file or none.
  const partial = `${file}.${process.pid}.tmp`;
  writeFileSync(partial, text, { mode: 0o600 });
  renameSync(partial, file);
  return { policyPacks: [ANALYZER_PATH], policyPackConfigs: [file] };
}
