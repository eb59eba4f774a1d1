import { describe, expect, it } from "vitest";
import { parseSlug } from "./tenantNames.ts";
import {
  ACCESS_PURPOSES,
  deriveAccessSecret,
  deriveSecret,
  SECRET_PURPOSES,
  tenantAccessKey,
} from "./tenantSecrets.ts";

const ROOT = "0123456789abcdef0123456789abcdef-root";

describe("deriveSecret", () => {
  it("is stable across calls", () => {
    expect(deriveSecret(ROOT, parseSlug("acme"), "dashboard-api-key")).toBe(
      deriveSecret(ROOT, parseSlug("acme"), "dashboard-api-key"),
    );
  });
  it("differs per tenant, per purpose, per scope and per root, and never contains the root", () => {
    const values = new Set<string>();
    for (const slug of ["acme", "acme-two"].map(parseSlug)) {
      for (const purpose of SECRET_PURPOSES) {
        for (const root of [ROOT, `${ROOT}-other`]) {
          for (const scope of [undefined, "telegram"]) {
            const secret = deriveSecret(root, slug, purpose, scope);
            expect(secret).toMatch(/^[0-9a-f]{64}$/);
            expect(secret).not.toContain(root);
            values.add(secret);
          }
        }
      }
    }
    expect(values.size).toBe(2 * SECRET_PURPOSES.length * 2 * 2);
  });
  it("refuses a short root secret", () => {
    expect(() => deriveSecret("short", parseSlug("acme"), "postgres-password")).toThrow(
      /at least 32 characters/,
    );
    expect(() => tenantAccessKey("short")).toThrow(/at least 32 characters/);
  });
});

describe("the tenant-access key", () => {
  const access = tenantAccessKey(ROOT);
  it("is a derivation of the root, distinct from every per-tenant secret", () => {
    expect(access).toMatch(/^[0-9a-f]{64}$/);
    expect(access).toBe(tenantAccessKey(ROOT));
    expect(access).not.toBe(tenantAccessKey(`${ROOT}-other`));
    for (const purpose of SECRET_PURPOSES)
      expect(deriveSecret(ROOT, parseSlug("acme"), purpose)).not.toBe(access);
  });
  it("derives its purposes per tenant, and none of them equals a root-derived secret", () => {
    const rootDerived = new Set(
      SECRET_PURPOSES.map((purpose) => deriveSecret(ROOT, parseSlug("acme"), purpose)),
    );
    const values = new Set<string>();
    for (const slug of ["acme", "acme-two"]) {
      for (const purpose of ACCESS_PURPOSES) {
        const secret = deriveAccessSecret(access, slug, purpose);
        expect(secret).toMatch(/^[0-9a-f]{64}$/);
        expect(rootDerived.has(secret)).toBe(false);
        values.add(secret);
      }
    }
    expect(values.size).toBe(2 * ACCESS_PURPOSES.length);
  });
  it("must be the 64-hex key, not the root", () => {
    expect(() => deriveAccessSecret(ROOT, "acme", "platform-sso")).toThrow(/64 hex characters/);
  });
});
