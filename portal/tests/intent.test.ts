/**
 * The two pure rules behind "no state change without intent": which requests may change anything
 * (server/requestOrigin.ts) and where a redirect built from input may lead (server/redirects.ts).
 * The browser test (crossOrigin.test.ts) shows them holding end to end.
 */
import { describe, expect, it } from "vitest";
import { magicLinkSchema, signInSchema } from "../src/server/formSchemas.ts";
import { knownPage, landingPage, signInFor } from "../src/server/redirects.ts";
import { judgeIntent } from "../src/server/requestOrigin.ts";

const PORTAL = "https://portal.example";

function judge(method: string, pathname: string, headers: Record<string, string> = {}) {
  return judgeIntent({ method, pathname, headers: new Headers(headers) }, PORTAL);
}

describe("judgeIntent", () => {
  it("lets pages and API routes be read from anywhere", () => {
    for (const method of ["GET", "HEAD", "OPTIONS", "get"]) {
      expect(judge(method, "/dashboard", { "sec-fetch-site": "cross-site" }).allowed).toBe(true);
      expect(judge(method, "/api/instance").allowed).toBe(true);
    }
  });

  it("runs server functions on POST, or GET for the router's query fetches, from this origin only", () => {
    for (const method of ["HEAD", "PUT", "DELETE", "OPTIONS"]) {
      expect(judge(method, "/_server", { "sec-fetch-site": "same-origin" })).toMatchObject({
        allowed: false,
        status: 405,
      });
    }
    for (const method of ["GET", "POST"]) {
      expect(judge(method, "/_server", { "sec-fetch-site": "same-origin" }).allowed).toBe(true);
      // A link, an image or a form on another site: refused before anything runs.
      for (const site of ["cross-site", "same-site", "none"])
        expect(judge(method, "/_server", { "sec-fetch-site": site })).toMatchObject({
          allowed: false,
          status: 403,
        });
    }
    // Browsers send no Origin on a same-origin GET: without fetch metadata a GET is refused.
    expect(judge("GET", "/_server")).toMatchObject({ allowed: false, status: 403 });
    expect(judge("GET", "/_server/anything", { "sec-fetch-site": "cross-site" }).allowed).toBe(false);
  });

  it("takes the browser's fetch metadata when it is there: only same-origin may change anything", () => {
    for (const path of ["/_server", "/auth/confirm/continue", "/api/instance", "/dashboard"]) {
      expect(judge("POST", path, { "sec-fetch-site": "same-origin" }).allowed).toBe(true);
      for (const site of ["same-site", "cross-site", "none"]) {
        // Fetch metadata wins over an Origin that would have passed.
        expect(judge("POST", path, { "sec-fetch-site": site, origin: PORTAL })).toMatchObject({
          allowed: false,
          status: 403,
        });
      }
    }
    expect(judge("DELETE", "/api/x", { "sec-fetch-site": "cross-site" }).allowed).toBe(false);
  });

  it("falls back to an Origin that must be exactly the portal's", () => {
    expect(judge("POST", "/_server", { origin: PORTAL }).allowed).toBe(true);
    for (const origin of [
      "null",
      "https://evil.example",
      "https://tenant.portal.example",
      "http://portal.example",
      "https://portal.example:444",
      `${PORTAL}.evil.example`,
    ]) {
      expect(judge("POST", "/_server", { origin })).toMatchObject({ allowed: false, status: 403 });
    }
  });

  it("refuses a change that names no origin at all", () => {
    expect(judge("POST", "/_server")).toMatchObject({ allowed: false, status: 403 });
    expect(judge("PATCH", "/api/instance", { referer: `${PORTAL}/dashboard` })).toMatchObject({
      allowed: false,
    });
  });
});

describe("knownPage", () => {
  it.each([
    ["/dashboard", "/dashboard"],
    ["/dashboard?checkout=success", "/dashboard?checkout=success"],
    ["/billing?welcome=1", "/billing?welcome=1"],
    ["/billing?checkout=cancelled&welcome=1", "/billing?welcome=1&checkout=cancelled"],
    ["/account", "/account"],
    ["/account?password=new", "/account?password=new"],
    ["/usage?days=7", "/usage"],
    ["/operator/platform", "/operator/platform"],
    ["/operator?q=acme&tier=starter&page=2", "/operator?q=acme&tier=starter&page=2"],
    [
      "/operator/tenants/0b7c6a4e-3c57-4d8a-9a7e-1f2e3d4c5b6a",
      "/operator/tenants/0b7c6a4e-3c57-4d8a-9a7e-1f2e3d4c5b6a",
    ],
    ["/account#section", "/account"],
  ])("keeps %s as %s", (raw, expected) => {
    expect(knownPage(raw)).toBe(expected);
  });

  it("drops query values a page does not read, or reads differently", () => {
    expect(knownPage("/dashboard?checkout=<script>&x=1")).toBe("/dashboard");
    expect(knownPage("/billing?welcome=yes&next=//evil")).toBe("/billing");
    expect(knownPage("/operator?tier=platinum&sort=slug&pageSize=50&q=a")).toBe("/operator?q=a");
    expect(knownPage("/account?next=/_server")).toBe("/account");
    expect(knownPage("/account?password=old")).toBe("/account");
  });

  it.each([
    "/_server?id=abc-1&args=x",
    "/_server",
    "/api/account/export",
    "/api/instance",
    "/auth/confirm?flow=1&email=a%40b&code=1",
    "/auth/confirm/continue?flow=1",
    "/login",
    "/",
    "//evil.example",
    "///evil.example",
    "/\\evil.example",
    "/\\/evil.example",
    "\\\\evil.example",
    "https://evil.example/dashboard",
    "http:/dashboard",
    "javascript:alert(1)",
    "data:text/html,hi",
    "dashboard",
    "/dashboard/../_server?id=x",
    "/%2e%2e/_server",
    "/dashboard/",
    "/DASHBOARD",
    "/dash%62oard",
    "/%2F%2Fevil.example",
    "/dashboard\n/evil",
    "/dashboard\t",
    " /dashboard",
    "/operator/tenants/not-a-uuid",
    "/operator/tenants/0b7c6a4e-3c57-4d8a-9a7e-1f2e3d4c5b6a/../../../_server",
    `/dashboard?${"a".repeat(2000)}`,
    "",
  ])("refuses %j", (raw) => {
    expect(knownPage(raw)).toBeUndefined();
    expect(landingPage(raw)).toBe("/dashboard");
  });

  it("refuses what is not a string", () => {
    for (const raw of [undefined, null, 1, ["/dashboard"], { toString: () => "/dashboard" }])
      expect(knownPage(raw)).toBeUndefined();
  });

  it("is what the sign-in forms' next becomes, present or not", () => {
    const form = { email: "a@example.com", password: "x" };
    expect(signInSchema.parse(form).next).toBe("/dashboard");
    expect(signInSchema.parse({ ...form, next: "/account" }).next).toBe("/account");
    expect(magicLinkSchema.parse({ email: form.email, next: "//evil.example" }).next).toBe("/dashboard");
  });

  it("builds sign-in links that carry only a known page", () => {
    expect(signInFor("/billing?welcome=1")).toBe("/login?next=%2Fbilling%3Fwelcome%3D1");
    expect(signInFor("/_server?id=x")).toBe("/login?next=%2Fdashboard");
  });
});
