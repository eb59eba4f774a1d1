/**
 * The auth port's pure parts (provider selection from the settings, the Supabase adapter's claim
 * mapping, session cookie and PKCE state encoding) and the local adapter against the real local
 * auth server (Kratos + gateway + mail sink). The Supabase adapter's calls to Supabase Auth are not
 * exercised here: there is no GoTrue to run them against (auth-server/README.md).
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type TestAuthServer, testAuthServer } from "../../testing/authServer.ts";
import { type TestDatabase, testDatabase } from "../../testing/database.ts";
import { IdentityError, type IdentityProvider } from "../src/server/auth/identityProvider.ts";
import { KratosGatewayProvider } from "../src/server/auth/kratosGateway.ts";
import { PkceStorage } from "../src/server/auth/pkceStorage.ts";
import { createIdentityProvider } from "../src/server/auth/provider.ts";
import { decodeSessionCookie, encodeSessionCookie } from "../src/server/auth/sessionCookie.ts";
import { redirectUrl, SupabaseProvider } from "../src/server/auth/supabase.ts";
import { ClaimsError, claimsOfVerifiedToken, decodeJwtPayload } from "../src/server/auth/supabaseClaims.ts";
import { loadPortalSettings, PortalSettingsError } from "../src/server/settings.ts";
import { type PortalEnvironment, startPortalEnvironment } from "./environment.ts";

const BASE_ENV = { DATABASE_URL: "postgres://u@127.0.0.1:5432/db", SUPABASE_URL: "https://abc.supabase.co/" };

function settingsError(env: Record<string, string>): string {
  try {
    loadPortalSettings(env);
  } catch (error) {
    expect(error).toBeInstanceOf(PortalSettingsError);
    return (error as Error).message;
  }
  throw new Error("the settings were accepted");
}

/** An unsigned JWT with this payload: the claim mapping never checks signatures (Auth did). */
function jwt(payload: object): string {
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString("base64url");
  return `${part({ alg: "ES256", typ: "JWT" })}.${part(payload)}.c2lnbmF0dXJl`;
}

const USER_ID = "0b6b1c59-8a3c-4d7e-9a51-1f2d3c4b5a69";
const exp = Math.floor(Date.now() / 1000) + 3600;
const supabaseClaims = {
  iss: "https://abc.supabase.co/auth/v1",
  sub: USER_ID,
  aud: "authenticated",
  exp,
  iat: exp - 3600,
  email: "ada@example.test",
  role: "authenticated",
  aal: "aal1",
  session_id: "4f1d2c3b-0000-4000-8000-000000000001",
  is_anonymous: false,
};

describe("choosing the identity server (MINDROOM_AUTH_PROVIDER)", () => {
  test("local by default, and the local adapter is the Kratos gateway", () => {
    const settings = loadPortalSettings(BASE_ENV);
    expect(settings.authProvider).toBe("local");
    const provider = createIdentityProvider(settings);
    expect(provider).toBeInstanceOf(KratosGatewayProvider);
    expect(provider.name).toBe("local");
  });

  test("supabase selects the supabase-js adapter (no request is made to build it)", () => {
    const settings = loadPortalSettings({
      ...BASE_ENV,
      MINDROOM_AUTH_PROVIDER: "supabase",
      SUPABASE_ANON_KEY: "anon-key",
    });
    expect(settings.authProvider).toBe("supabase");
    const provider = createIdentityProvider(settings);
    expect(provider).toBeInstanceOf(SupabaseProvider);
    expect(provider.name).toBe("supabase");
  });

  test("supabase without SUPABASE_ANON_KEY is refused, naming the variable", () => {
    expect(settingsError({ ...BASE_ENV, MINDROOM_AUTH_PROVIDER: "supabase" })).toMatch(
      /SUPABASE_ANON_KEY is required when MINDROOM_AUTH_PROVIDER=supabase/,
    );
  });

  test("an unknown provider is refused with the allowed values, without echoing the value", () => {
    const message = settingsError({ ...BASE_ENV, MINDROOM_AUTH_PROVIDER: "gotrue-secret-ish" });
    expect(message).toMatch(/MINDROOM_AUTH_PROVIDER must be "local" or "supabase"/);
    expect(message).not.toContain("gotrue-secret-ish");
  });

  test("a blank value means the default", () => {
    expect(loadPortalSettings({ ...BASE_ENV, MINDROOM_AUTH_PROVIDER: " " }).authProvider).toBe("local");
  });
});

describe("RLS claims from a Supabase access token Auth has accepted", () => {
  const user = { id: USER_ID, email: "ada@example.test", is_anonymous: false };

  test("are the token's own claims, with the expiry in milliseconds", () => {
    const mapped = claimsOfVerifiedToken(user, jwt(supabaseClaims));
    expect(mapped).toEqual({
      userId: USER_ID,
      email: "ada@example.test",
      claims: supabaseClaims,
      expiresAt: exp * 1000,
    });
  });

  test("take the email from the verified user when the token has none", () => {
    const { email: _left, ...withoutEmail } = supabaseClaims;
    expect(claimsOfVerifiedToken(user, jwt(withoutEmail)).claims.email).toBe("ada@example.test");
  });

  test("refuse a token of another user, another role, an anonymous user or without sub/exp", () => {
    const refused = (token: string, who = user) =>
      expect(() => claimsOfVerifiedToken(who, token)).toThrow(ClaimsError);
    refused(jwt({ ...supabaseClaims, sub: "9b6b1c59-8a3c-4d7e-9a51-1f2d3c4b5a69" }));
    refused(jwt({ ...supabaseClaims, role: "service_role" }));
    refused(jwt({ ...supabaseClaims, role: "anon" }));
    refused(jwt({ ...supabaseClaims, is_anonymous: true }));
    refused(jwt(supabaseClaims), { id: USER_ID, email: "", is_anonymous: false });
    refused(jwt({ ...supabaseClaims, sub: undefined }));
    refused(jwt({ ...supabaseClaims, exp: undefined }));
  });

  test("refuse what is not a JWT with a JSON object payload", () => {
    expect(() => decodeJwtPayload("not-a-jwt")).toThrow(ClaimsError);
    expect(() => decodeJwtPayload("a.b")).toThrow(ClaimsError);
    expect(() => decodeJwtPayload(`x.${Buffer.from("[1]").toString("base64url")}.y`)).toThrow(ClaimsError);
    expect(() => decodeJwtPayload("x.%%%.y")).toThrow(ClaimsError);
  });
});

describe("the Supabase session cookie", () => {
  const accessToken = jwt(supabaseClaims);

  test("holds the access and refresh token and reads them back", () => {
    const value = encodeSessionCookie({ accessToken, refreshToken: "v7bqkz3xq2hm" });
    expect(value).toBe(`${accessToken}~v7bqkz3xq2hm`);
    expect(decodeSessionCookie(value)).toEqual({ accessToken, refreshToken: "v7bqkz3xq2hm" });
  });

  test("anything else reads as no session", () => {
    for (const value of [
      "",
      "ory_st_abcdef",
      accessToken,
      `${accessToken}~`,
      `~refresh`,
      `${accessToken}~a~b`,
      `not.a-jwt~refresh`,
      `${accessToken}~has space`,
    ]) {
      expect(decodeSessionCookie(value)).toBeUndefined();
    }
  });

  test("refuses to write tokens that would not read back", () => {
    expect(() => encodeSessionCookie({ accessToken: "opaque", refreshToken: "r" })).toThrow();
    expect(() => encodeSessionCookie({ accessToken, refreshToken: "a~b" })).toThrow();
  });
});

describe("the PKCE state carried from the link request to the confirm route", () => {
  test("keeps the code verifier entries and nothing else", () => {
    const sent = new PkceStorage();
    sent.setItem("sb-abc-auth-token-code-verifier", '"verifier"');
    sent.setItem("sb-abc-auth-token-flow-1f-code-verifier", '"verifier"');
    sent.setItem("sb-abc-auth-token", '{"access_token":"not carried"}');
    const pending = sent.pending();
    expect(pending).toMatch(/^[\w-]+$/);
    const back = new PkceStorage(pending);
    expect(back.getItem("sb-abc-auth-token-code-verifier")).toBe('"verifier"');
    expect(back.getItem("sb-abc-auth-token-flow-1f-code-verifier")).toBe('"verifier"');
    expect(back.getItem("sb-abc-auth-token")).toBeNull();
  });

  test("nothing to carry without a verifier; a forged value seeds nothing", () => {
    expect(new PkceStorage().pending()).toBeUndefined();
    const forged = Buffer.from(JSON.stringify({ "x-code-verifier": 5 })).toString("base64url");
    expect(new PkceStorage(forged).pending()).toBeUndefined();
    expect(new PkceStorage("%%%").pending()).toBeUndefined();
  });

  test("the link lands on the confirm route with the next path", () => {
    expect(
      redirectUrl({ confirmUrl: "https://portal.example/auth/confirm", next: "/billing?welcome=1" }),
    ).toBe("https://portal.example/auth/confirm?next=%2Fbilling%3Fwelcome%3D1");
  });
});

describe("the Supabase adapter, where it answers without asking Auth", () => {
  // Port 1 refuses connections: nothing here may reach a server, and an outage must not look like a sign-out.
  const provider = new SupabaseProvider({
    url: "http://127.0.0.1:1",
    anonKey: "anon",
    serviceRoleKey: undefined,
  });

  test("a cookie it did not write is no session, and signing it out does nothing", async () => {
    expect(await provider.verifySession("ory_st_abcdef")).toBeNull();
    await provider.signOut("ory_st_abcdef");
  });

  test("malformed or refused links are refused before any request", async () => {
    for (const query of [
      "",
      "code=",
      "token_hash=abc&type=recovery",
      "token_hash=a%20b&type=email",
      "error=access_denied&error_description=Email+link+is+invalid",
    ]) {
      await expect(provider.completeMagicLink(new URLSearchParams(query), undefined)).rejects.toBeInstanceOf(
        IdentityError,
      );
    }
  });

  test("Auth unreachable while verifying is an error, not a signed-out person", async () => {
    const cookie = encodeSessionCookie({ accessToken: jwt(supabaseClaims), refreshToken: "v7bqkz3xq2hm" });
    await expect(provider.verifySession(cookie)).rejects.toThrow();
  });

  test("deleting a user without the service role key names the missing variable", async () => {
    await expect(provider.deleteUser(USER_ID)).rejects.toThrow(/SUPABASE_SERVICE_ROLE_KEY is not set/);
  });
});

describe("the local adapter against the local auth server", () => {
  let db: TestDatabase;
  let auth: TestAuthServer;
  let provider: IdentityProvider;
  const PASSWORD = "correct horse battery staple";
  const landing = { confirmUrl: "http://127.0.0.1:3000/auth/confirm", next: "/account" };

  beforeAll(async () => {
    db = await testDatabase();
    auth = await testAuthServer(db);
    provider = new KratosGatewayProvider({ supabaseUrl: auth.url, serviceRoleKey: auth.serviceRoleKey });
  });

  afterAll(async () => {
    await auth?.stop();
    await db?.close();
  });

  async function refusal(promise: Promise<unknown>): Promise<IdentityError> {
    const error = await promise.then(
      () => undefined,
      (reason: unknown) => reason,
    );
    expect(error).toBeInstanceOf(IdentityError);
    return error as IdentityError;
  }

  test("sign-up signs in at once; the session verifies with Supabase-shaped claims; sign-out ends it", async () => {
    const result = await provider.signUp("Ada@Example.test", PASSWORD, { landing });
    if (result.status !== "signed-in") throw new Error("expected a session");
    const { signedIn } = result;
    expect(signedIn.email).toBe("ada@example.test");
    expect(signedIn.cookieExpiresAt?.getTime()).toBeGreaterThan(Date.now());
    const session = await provider.verifySession(signedIn.sessionToken);
    expect(session).toMatchObject({
      userId: signedIn.userId,
      email: "ada@example.test",
      claims: { sub: signedIn.userId, role: "authenticated", email: "ada@example.test" },
    });
    expect(session?.renewed).toBeUndefined();
    await provider.signOut(signedIn.sessionToken);
    expect(await provider.verifySession(signedIn.sessionToken)).toBeNull();
    expect(await provider.verifySession("ory_st_made_up")).toBeNull();
  });

  test("refusals come back as IdentityError kinds", async () => {
    await provider.signUp("bea@example.test", PASSWORD, { landing });
    expect((await refusal(provider.signUp("bea@example.test", PASSWORD, { landing }))).kind).toBe(
      "account-exists",
    );
    const weak = await refusal(provider.signUp("cid@example.test", "short", { landing }));
    expect(weak.kind).toBe("rejected");
    expect(weak.message).toMatch(/at least 8 characters/);
    expect((await refusal(provider.signInWithPassword("bea@example.test", "wrong password!"))).kind).toBe(
      "invalid-credentials",
    );
    expect((await refusal(provider.sendMagicLink("nobody@example.test", landing))).kind).toBe("rejected");
  });

  test("the emailed link lands on the confirm route with next, and the confirm step redeems it once", async () => {
    const email = "dot@example.test";
    const created = await provider.signUp(email, PASSWORD, { landing });
    if (created.status !== "signed-in") throw new Error("expected a session");
    expect(await provider.sendMagicLink(email, landing)).toBeUndefined();
    const mail = await auth.mail.latestTo(email);
    const link = new URL(/https?:\/\/\S+\/auth\/confirm\?\S+/.exec(mail.text)?.[0] ?? "http://missing");
    expect(link.origin + link.pathname).toBe(landing.confirmUrl);
    expect(link.searchParams.get("next")).toBe("/account");
    const signed = await provider.completeMagicLink(link.searchParams, undefined);
    expect(signed.userId).toBe(created.signedIn.userId);
    await expect(provider.completeMagicLink(link.searchParams, undefined)).rejects.toThrow();
    const malformed = new URLSearchParams({ flow: "x", email, code: "abc" });
    expect((await refusal(provider.completeMagicLink(malformed, undefined))).kind).toBe("rejected");
  });

  test("admin deletion removes the identity; deleting it again is not an error", async () => {
    const result = await provider.signUp("eve@example.test", PASSWORD, { landing });
    if (result.status !== "signed-in") throw new Error("expected a session");
    await provider.deleteUser(result.signedIn.userId);
    expect(await provider.verifySession(result.signedIn.sessionToken)).toBeNull();
    await provider.deleteUser(result.signedIn.userId);
  });
});

describe("a new password with the local adapter", () => {
  let db: TestDatabase;
  let auth: TestAuthServer;
  let provider: IdentityProvider;
  const PASSWORD = "correct horse battery staple";
  const landing = { confirmUrl: "http://127.0.0.1:3000/auth/confirm", next: "/account" };

  beforeAll(async () => {
    db = await testDatabase();
    // Sessions may change the password for 3 s after signing in, so the test can outwait it.
    auth = await testAuthServer(db, { privilegedSessionMaxAge: "3s" });
    provider = new KratosGatewayProvider({ supabaseUrl: auth.url, serviceRoleKey: auth.serviceRoleKey });
  });

  afterAll(async () => {
    await auth?.stop();
    await db?.close();
  });

  async function signedUp(email: string): Promise<string> {
    const result = await provider.signUp(email, PASSWORD, { landing });
    if (result.status !== "signed-in") throw new Error("expected a session");
    return result.signedIn.sessionToken;
  }

  test("a fresh session sets it; every other session of the person ends, this one stays", async () => {
    const email = "fay@example.test";
    const session = await signedUp(email);
    const elsewhere = (await provider.signInWithPassword(email, PASSWORD)).sessionToken;
    await provider.changePassword(session, "a completely new passphrase");
    expect(await provider.verifySession(session)).not.toBeNull();
    expect(await provider.verifySession(elsewhere)).toBeNull();
    await expect(provider.signInWithPassword(email, PASSWORD)).rejects.toThrow(IdentityError);
    await provider.signInWithPassword(email, "a completely new passphrase");
  });

  test("an older session is told to sign in again, and nothing changes", async () => {
    const email = "gus@example.test";
    const session = await signedUp(email);
    await new Promise((done) => setTimeout(done, 4000));
    const error = await provider.changePassword(session, "another new passphrase").then(
      () => undefined,
      (reason: unknown) => reason,
    );
    expect(error).toBeInstanceOf(IdentityError);
    expect((error as IdentityError).kind).toBe("sign-in-again");
    await provider.signInWithPassword(email, PASSWORD);
  });

  test("a password the identity server's policy refuses is rejected with its reason", async () => {
    const session = await signedUp("hal@example.test");
    const error = await provider.changePassword(session, "short").then(
      () => undefined,
      (reason: unknown) => reason,
    );
    expect(error).toBeInstanceOf(IdentityError);
    expect((error as IdentityError).kind).toBe("rejected");
    expect((error as IdentityError).message).toMatch(/at least 8 characters/);
  });
});

describe("the portal's confirm route with the local adapter", () => {
  let env: PortalEnvironment;

  beforeAll(async () => {
    env = await startPortalEnvironment();
  });

  afterAll(async () => {
    await env?.stop();
  });

  test("an emailed sign-in link only asks until continued from the portal's page, then signs in once and continues to next", async () => {
    const email = "fay@example.test";
    const provider: IdentityProvider = new KratosGatewayProvider({
      supabaseUrl: env.auth.url,
      serviceRoleKey: undefined,
    });
    await provider.signUp(email, "correct horse battery staple", { landing: { confirmUrl: "", next: "/" } });
    await provider.sendMagicLink(email, { confirmUrl: `${env.url}/auth/confirm`, next: "/account" });
    const mail = await env.auth.mail.latestTo(email);
    const link = /https?:\/\/\S+\/auth\/confirm\?\S+/.exec(mail.text)?.[0] ?? "";
    expect(link.startsWith(`${env.url}/auth/confirm?`)).toBe(true);

    // Opening the link (a mail scanner, or a link someone else sent) changes nothing.
    const opened = await fetch(link, { redirect: "manual" });
    expect(opened.status).toBe(200);
    expect(opened.headers.getSetCookie()).toEqual([]);
    expect(await opened.text()).toContain("Continue");
    const continueUrl = link.replace("/auth/confirm?", "/auth/confirm/continue?");
    const redeem = () =>
      fetch(continueUrl, { method: "POST", redirect: "manual", headers: { origin: env.url } });
    // Not from the portal's own page: refused, and the link still works afterwards.
    const forged = await fetch(continueUrl, {
      method: "POST",
      redirect: "manual",
      headers: { origin: "http://evil.example" },
    });
    expect(forged.status).toBe(403);

    const first = await redeem();
    expect(first.status).toBe(303);
    expect(first.headers.get("location")).toBe("/account");
    const cookies = first.headers.getSetCookie();
    expect(cookies).toHaveLength(1);
    expect(cookies[0]).toMatch(/^mr_session=[^;]+;.*HttpOnly/i);
    const session = cookies[0]?.split(";")[0] ?? "";
    const account = await fetch(`${env.url}/account`, { headers: { cookie: session }, redirect: "manual" });
    expect(account.status).toBe(200);

    const again = await redeem();
    expect(again.status).toBe(303);
    expect(again.headers.get("location")).toBe("/login?error=link&next=%2Faccount");
  });
});
