/**
 * The portal's single sign-on tickets against the MindRoom runtime's own checks
 * (testing/runtime/platform_auth.py: mindroom/api/auth.py's ticket exchange with PyJWT, run from
 * the environment a tenant's runtime gets). What passes there is exactly what the runtime accepts.
 */
import { createHmac } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deriveAccessSecret, tenantAccessKey } from "../../components/tenantSecrets.ts";
import { type RuntimeAuth, startRuntimeAuth } from "../../testing/runtimeAuth.ts";
import { SAMPLE_ROOT_SECRET } from "../../testing/tenantSamples.ts";
import { landingPath, mintSsoTicket, SSO_TICKET_TYPE, ssoRedirectUrl } from "../src/server/platformSso.ts";

const access = tenantAccessKey(SAMPLE_ROOT_SECRET);
const owner = "5b0c3c4e-6d1f-4a55-9a3e-0c7f1f3c2b10";
const tenants = {
  acme: { origin: "https://acme.mindroom.test", key: deriveAccessSecret(access, "acme", "platform-sso") },
  zeta: { origin: "https://zeta.mindroom.test", key: deriveAccessSecret(access, "zeta", "platform-sso") },
};
let acme: RuntimeAuth;
let zeta: RuntimeAuth;

function runtimeEnv(slug: keyof typeof tenants, accountId: string) {
  return {
    MINDROOM_PUBLIC_URL: tenants[slug].origin,
    MINDROOM_PLATFORM_SSO_SECRET: tenants[slug].key,
    MINDROOM_PLATFORM_SSO_URL: "http://localhost:3000/sso/mindroom",
    ACCOUNT_ID: accountId,
    SUPABASE_URL: "http://127.0.0.1:54321",
    SUPABASE_ANON_KEY: "anon",
  };
}

beforeAll(async () => {
  [acme, zeta] = await Promise.all([
    startRuntimeAuth(runtimeEnv("acme", owner)),
    startRuntimeAuth(runtimeEnv("zeta", "0e3d1a2b-8f4c-4b6e-9d7a-1c2b3a4d5e6f")),
  ]);
});

afterAll(async () => {
  await Promise.all([acme?.stop(), zeta?.stop()]);
});

async function exchange(runtime: RuntimeAuth, ticket: string, next = "/") {
  const query = new URLSearchParams({ ticket, next });
  const answer = await fetch(`${runtime.url}/api/auth/platform-sso?${query}`, { redirect: "manual" });
  return {
    status: answer.status,
    location: answer.headers.get("location"),
    cookie: answer.headers.get("set-cookie"),
  };
}

/** A hand-made HS256 token, for claims the portal never mints. */
function forge(key: string, claims: Record<string, unknown>): string {
  const part = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64url");
  const input = `${part({ alg: "HS256", typ: "JWT" })}.${part(claims)}`;
  return `${input}.${createHmac("sha256", key).update(input).digest("base64url")}`;
}

describe("a single sign-on ticket", () => {
  it("passes the runtime's checks once, and sets its host-only session", async () => {
    const { ticket, claims } = mintSsoTicket(tenants.acme.key, {
      audience: tenants.acme.origin,
      subject: owner,
      email: "ada@example.com",
    });
    expect(claims).toMatchObject({ typ: SSO_TICKET_TYPE, aud: "https://acme.mindroom.test", sub: owner });
    expect(claims.exp - claims.iat).toBeLessThanOrEqual(60);
    const first = await exchange(acme, ticket, "/agents");
    expect(first.status).toBe(307);
    expect(first.location).toBe("/agents");
    expect(first.cookie).toMatch(
      /^__Host-mindroom_platform_session=[^;]+; Max-Age=3600; Path=\/; Secure; HttpOnly/,
    );
    // The session opens the dashboard.
    const session = first.cookie?.split(";")[0] ?? "";
    const page = await fetch(`${acme.url}/`, { headers: { cookie: session }, redirect: "manual" });
    expect(page.status).toBe(200);
    expect(await page.json()).toMatchObject({ account: owner, email: "ada@example.com" });
    // Single use.
    expect((await exchange(acme, ticket)).status).toBe(401);
  });

  it("is refused by another tenant", async () => {
    const { ticket } = mintSsoTicket(tenants.acme.key, { audience: tenants.acme.origin, subject: owner });
    expect((await exchange(zeta, ticket)).status).toBe(401);
    // Even signed with the other tenant's key, the audience is still acme's.
    const { ticket: wrongAudience } = mintSsoTicket(tenants.zeta.key, {
      audience: tenants.acme.origin,
      subject: owner,
    });
    expect((await exchange(zeta, wrongAudience)).status).toBe(401);
  });

  it("is refused unless its subject is the tenant's ACCOUNT_ID", async () => {
    const { ticket } = mintSsoTicket(tenants.acme.key, {
      audience: tenants.acme.origin,
      subject: "0e3d1a2b-8f4c-4b6e-9d7a-1c2b3a4d5e6f",
    });
    expect((await exchange(acme, ticket)).status).toBe(403);
  });

  it("is refused when expired, of another type, or missing a required claim", async () => {
    const now = Math.floor(Date.now() / 1000);
    const base = { typ: SSO_TICKET_TYPE, aud: tenants.acme.origin, sub: owner, iat: now, exp: now + 60 };
    const refused = [
      { ...base, jti: "a", iat: now - 200, exp: now - 100 },
      { ...base, jti: "b", typ: "mindroom_platform_session" },
      { ...base, jti: "c", sub: "" },
      { ...base, jti: "d", email: 42 },
      base,
      Object.fromEntries(Object.entries({ ...base, jti: "e" }).filter(([k]) => k !== "iat")),
    ];
    for (const claims of refused)
      expect((await exchange(acme, forge(tenants.acme.key, claims))).status, JSON.stringify(claims)).toBe(
        401,
      );
    // The same claims, well-formed, pass: the forger above is not the reason.
    expect((await exchange(acme, forge(tenants.acme.key, { ...base, jti: "f" }))).status).toBe(307);
  });
});

describe("the portal's redirect", () => {
  it("sends the owner to the runtime's exchange with a fresh ticket and an in-app landing path", async () => {
    const url = new URL(
      ssoRedirectUrl({
        accessKey: access,
        slug: "acme",
        appUrl: "https://acme.mindroom.test",
        accountId: owner,
        email: "ada@example.com",
        redirectTo: "https://acme.mindroom.test/rooms?tab=2",
      }),
    );
    expect(`${url.origin}${url.pathname}`).toBe("https://acme.mindroom.test/api/auth/platform-sso");
    expect(url.searchParams.get("next")).toBe("/rooms?tab=2");
    const passed = await exchange(
      acme,
      url.searchParams.get("ticket") ?? "",
      url.searchParams.get("next") ?? "/",
    );
    expect(passed).toMatchObject({ status: 307, location: "/rooms?tab=2" });
  });

  it("never lands outside the tenant's dashboard", () => {
    const origin = "https://acme.mindroom.test";
    expect(landingPath(origin, null)).toBe("/");
    expect(landingPath(origin, "https://evil.example/x")).toBe("/");
    expect(landingPath(origin, "https://zeta.mindroom.test/")).toBe("/");
    expect(landingPath(origin, "https://acme.mindroom.test//evil.example")).toBe("/");
    expect(landingPath(origin, "not a url")).toBe("/");
    expect(landingPath(origin, "https://acme.mindroom.test/agents/1")).toBe("/agents/1");
  });

  it("sends people who are not signed in at the runtime to the portal, naming where they were going", async () => {
    const answer = await fetch(`${acme.url}/agents?x=1`, { redirect: "manual" });
    expect(answer.status).toBe(302);
    expect(answer.headers.get("location")).toBe(
      `http://localhost:3000/sso/mindroom?redirect_to=${encodeURIComponent("https://acme.mindroom.test/agents?x=1")}`,
    );
  });
});
