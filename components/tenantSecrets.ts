/**
 * Per-tenant secrets derived from one root secret: stable across runs (so an
 * `up` never rotates them by accident), independent between tenants and
 * purposes, and never stored anywhere in plain text. The root itself never
 * reaches a tenant; only these derivations do.
 *
 * Two levels. Most secrets (database passwords, the operators' API key, the
 * encryption keys) are derived from the root directly, and only the tenant
 * stack can compute them. The secrets the portal needs to act for a signed-in
 * customer (the key that signs their single sign-on ticket, the homeserver's
 * registration secret and the platform's admin account on it) are derived from
 * the tenant-access key, itself a derivation of the root: the portal holds
 * that key alone, so it can compute exactly these and nothing else (see
 * docs/security.md, "Into MindRoom").
 */
import { createHmac } from "node:crypto";
import type { Slug } from "./tenantNames.ts";

export const SECRET_PURPOSES = [
  "credentials-encryption",
  "dashboard-api-key",
  "postgres-password",
  "redis-password",
  "backup-encryption",
  "synapse-macaroon",
  "synapse-form",
  "synapse-signing-key",
  "bridge-as-token",
  "bridge-hs-token",
] as const;
export type SecretPurpose = (typeof SECRET_PURPOSES)[number];

/** What the tenant-access key derives, per tenant. */
export const ACCESS_PURPOSES = ["platform-sso", "matrix-registration", "matrix-admin"] as const;
export type AccessPurpose = (typeof ACCESS_PURPOSES)[number];

/** Bumping the version rotates every derived secret of every tenant. */
const DERIVATION_VERSION = "v1";

function requireRoot(root: string): void {
  if (root.length < 32) {
    throw new Error(
      "the root secret must be at least 32 characters (generate one with `openssl rand -hex 32`)",
    );
  }
}

function hmacHex(key: string, context: string): string {
  return createHmac("sha256", key).update(context).digest("hex");
}

/** 64 hex characters of HMAC-SHA256(root, context). `scope` tells apart several of one purpose (bridges). */
export function deriveSecret(root: string, slug: Slug, purpose: SecretPurpose, scope?: string): string {
  requireRoot(root);
  const context = `mindroom-cloud/${DERIVATION_VERSION}/tenant/${slug}/${purpose}`;
  return hmacHex(root, scope === undefined ? context : `${context}/${scope}`);
}

/** The platform-wide key the portal holds (`MINDROOM_TENANT_ACCESS_KEY`): 64 hex characters. */
export function tenantAccessKey(root: string): string {
  requireRoot(root);
  return hmacHex(root, `mindroom-cloud/${DERIVATION_VERSION}/tenant-access`);
}

/** One tenant's secret for `purpose`, from the tenant-access key (never from the root directly). */
export function deriveAccessSecret(accessKey: string, slug: string, purpose: AccessPurpose): string {
  if (!/^[0-9a-f]{64}$/.test(accessKey))
    throw new Error("the tenant-access key must be 64 hex characters (see tenantAccessKey)");
  return hmacHex(accessKey, `mindroom-cloud/${DERIVATION_VERSION}/tenant/${slug}/${purpose}`);
}

/**
 * The seed of the key pair customers' provider keys are sealed to
 * (database/sealedSecrets.ts): the worker derives the private key from it, the
 * portal gets only the public key.
 */
export function providerKeySealingSeed(root: string): string {
  requireRoot(root);
  return hmacHex(root, `mindroom-cloud/${DERIVATION_VERSION}/provider-key-sealing`);
}
