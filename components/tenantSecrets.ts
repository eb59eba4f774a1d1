/**
 * Per-tenant secrets derived from one root secret: stable across runs (so an
 * `up` never rotates them by accident), independent between tenants and
 * purposes, and never stored anywhere in plain text. The root itself never
 * reaches a tenant; only these derivations do.
 */
import { createHmac } from "node:crypto";
import type { Slug } from "./tenantNames.ts";

export const SECRET_PURPOSES = [
  "matrix-registration",
  "credentials-encryption",
  "dashboard-api-key",
  "postgres-password",
  "redis-password",
  "backup-encryption",
] as const;
export type SecretPurpose = (typeof SECRET_PURPOSES)[number];

/** Bumping the version rotates every derived secret of every tenant. */
const DERIVATION_VERSION = "v1";

/** 64 hex characters of HMAC-SHA256(root, context). */
export function deriveSecret(root: string, slug: Slug, purpose: SecretPurpose): string {
  if (root.length < 32) {
    throw new Error(
      "the root secret must be at least 32 characters (generate one with `openssl rand -hex 32`)",
    );
  }
  return createHmac("sha256", root)
    .update(`mindroom-cloud/${DERIVATION_VERSION}/tenant/${slug}/${purpose}`)
    .digest("hex");
}
