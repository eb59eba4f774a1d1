import { describe, expect, it } from "vitest";
import { parseSlug, SLUG_MAX } from "../../components/tenantNames.ts";
import { tenantSlug } from "./tenantSlug.ts";

describe("tenantSlug", () => {
  it("is readable from the email's local part, with a suffix from the customer id", () => {
    expect(tenantSlug({ stripeCustomerId: "cus_ABC", email: "Jane.Doe+mr@example.com" })).toMatch(
      /^jane-doe-mr-[a-z0-9]{6}$/,
    );
  });

  it("is stable: the same customer always gets the same slug", () => {
    const a = tenantSlug({ stripeCustomerId: "cus_ABC", email: "jane@example.com" });
    expect(tenantSlug({ stripeCustomerId: "cus_ABC", email: "jane@example.com" })).toBe(a);
  });

  it("differs between customers with the same email", () => {
    const slugs = new Set(
      Array.from({ length: 500 }, (_, i) => tenantSlug({ stripeCustomerId: `cus_${i}`, email: "a@b.c" })),
    );
    expect(slugs.size).toBe(500);
  });

  it("falls back to the name, then to 'tenant'", () => {
    expect(tenantSlug({ stripeCustomerId: "cus_1", email: "42@x.io", name: "Zoë Café GmbH" })).toMatch(
      /^zoe-cafe-gmbh-[a-z0-9]{6}$/,
    );
    expect(tenantSlug({ stripeCustomerId: "cus_1", email: null, name: "!!!" })).toMatch(
      /^tenant-[a-z0-9]{6}$/,
    );
    expect(tenantSlug({ stripeCustomerId: "cus_1" })).toMatch(/^tenant-/);
  });

  it("always passes the slug grammar, whatever the input", () => {
    const inputs = [
      "x@y.z",
      "--a--b--@y.z",
      "123abc@y.z",
      "UPPER_CASE@Y.Z",
      `${"very-long-name".repeat(10)}@y.z`,
      "a-@y.z",
      "日本語@y.z",
      "a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q.r.s.t@y.z",
    ];
    for (const email of inputs) {
      const slug = tenantSlug({ stripeCustomerId: "cus_Zz9", email });
      expect(() => parseSlug(slug), email).not.toThrow();
      expect(slug.length, email).toBeLessThanOrEqual(SLUG_MAX);
    }
  });

  it("lengthens the suffix on a retry after a collision", () => {
    const first = tenantSlug({ stripeCustomerId: "cus_ABC", email: "jane@example.com" });
    const second = tenantSlug({ stripeCustomerId: "cus_ABC", email: "jane@example.com", attempt: 1 });
    expect(second).not.toBe(first);
    expect(second).toMatch(/^jane-[a-z0-9]{7}$/);
  });
});
