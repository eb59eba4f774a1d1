import { describe, expect, it } from "vitest";
import { parseSlug } from "./tenantNames.ts";
import { deriveSecret, SECRET_PURPOSES } from "./tenantSecrets.ts";

const ROOT = "0123456789abcdef0123456789abcdef-root";

describe("deriveSecret", () => {
  it("is stable across calls", () => {
    expect(deriveSecret(ROOT, parseSlug("acme"), "dashboard-api-key")).toBe(
      deriveSecret(ROOT, parseSlug("acme"), "dashboard-api-key"),
    );
  });
  it("differs per tenant, per purpose and per root, and never contains the root", () => {
    const values = new Set<string>();
    for (const slug of ["acme", "acme-two"].map(parseSlug)) {
      for (const purpose of SECRET_PURPOSES) {
        for (const root of [ROOT, `${ROOT}-other`]) {
          const secret = deriveSecret(root, slug, purpose);
          expect(secret).toMatch(/^[0-9a-f]{64}$/);
          expect(secret).not.toContain(root);
          values.add(secret);
        }
      }
    }
    expect(values.size).toBe(2 * SECRET_PURPOSES.length * 2);
  });
  it("refuses a short root secret", () => {
    expect(() => deriveSecret("short", parseSlug("acme"), "postgres-password")).toThrow(
      /at least 32 characters/,
    );
  });
});
