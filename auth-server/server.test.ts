/**
 * The local auth server end to end: the real identity server (Kratos, built by
 * toolchain/ensure.sh) on a real migrated Postgres, reached through the
 * gateway, with mail delivered to the SMTP sink and tokens checked by RLS.
 */
import { decodeJwt, decodeProtectedHeader, jwtVerify } from "jose";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { withUser } from "../database/asUser.ts";
import { type TestAuthServer, testAuthServer } from "../testing/authServer.ts";
import { type TestDatabase, testDatabase } from "../testing/database.ts";
import { verifyAccessToken } from "./accessToken.ts";
import { AuthClientError } from "./client.ts";

let db: TestDatabase;
let auth: TestAuthServer;

beforeAll(async () => {
  db = await testDatabase();
  auth = await testAuthServer(db);
});

afterAll(async () => {
  await auth?.stop();
  await db?.close();
});

const PASSWORD = "correct horse battery staple";

async function rejection(promise: Promise<unknown>): Promise<AuthClientError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(AuthClientError);
  return error as AuthClientError;
}

describe("sign-up and password sign-in", () => {
  test("sign-up creates the account, confirmed, with a session at once, and mirrors it into auth.users", async () => {
    const { sessionToken, session } = await auth.client.signUp("Alice@Example.test", PASSWORD);
    expect(sessionToken).not.toBe("");
    expect(session.active).toBe(true);
    expect(session.identity.traits.email).toBe("alice@example.test");
    const { rows } = await db.pool.query(
      "select email, aud, role, confirmed_at is not null as confirmed from auth.users where id = $1",
      [session.identity.id],
    );
    expect(rows).toEqual([
      { email: "alice@example.test", aud: "authenticated", role: "authenticated", confirmed: true },
    ]);
  });

  test("a second sign-up with the same email is refused", async () => {
    await auth.client.signUp("bob@example.test", PASSWORD);
    const error = await rejection(auth.client.signUp("bob@example.test", "another long password"));
    expect(error.status).toBe(400);
    expect(error.messageIds).toContain(4000007);
  });

  test("signs in with the password; a wrong password is refused", async () => {
    const created = await auth.client.signUp("carol@example.test", PASSWORD);
    const signedIn = await auth.client.signInWithPassword("carol@example.test", PASSWORD);
    expect(signedIn.session.identity.id).toBe(created.session.identity.id);
    expect(signedIn.sessionToken).not.toBe(created.sessionToken);

    const error = await rejection(auth.client.signInWithPassword("carol@example.test", "not the password"));
    expect(error.messageIds).toContain(4000006);
  });

  test("a too short password is refused with the reason", async () => {
    const error = await rejection(auth.client.signUp("dave@example.test", "short"));
    expect(error.status).toBe(400);
    expect(error.message).toMatch(/at least 8 characters/);
  });
});

describe("magic link", () => {
  test("the sign-in email reaches the sink with a link that signs the user in once", async () => {
    const email = "erin@example.test";
    const created = await auth.client.signUp(email, PASSWORD);
    const flowId = await auth.client.sendSignInCode(
      email,
      (flow) => `${auth.siteUrl}/auth/confirm?flow=${flow}&email=${encodeURIComponent(email)}&code=`,
    );

    const mail = await auth.mail.latestTo(email);
    expect(mail.subject).toBe("Your MindRoom sign-in code");
    const link = /https?:\/\/\S+\/auth\/confirm\?\S+/.exec(mail.text)?.[0];
    expect(link).toBeDefined();
    const url = new URL(link as string);
    expect(url.origin).toBe(auth.siteUrl);
    expect(url.searchParams.get("flow")).toBe(flowId);
    const code = url.searchParams.get("code") ?? "";
    expect(code).toMatch(/^\d{6}$/);
    expect(mail.html).toContain(`code=${code}`);

    // What the portal's /auth/confirm page does with the link.
    const signedIn = await auth.client.signInWithCode(
      url.searchParams.get("flow") ?? "",
      url.searchParams.get("email") ?? "",
      code,
    );
    expect(signedIn.session.identity.id).toBe(created.session.identity.id);

    await rejection(auth.client.signInWithCode(flowId, email, code));
  });

  test("a wrong code is refused", async () => {
    const email = "frank@example.test";
    await auth.client.signUp(email, PASSWORD);
    const flowId = await auth.client.sendSignInCode(email);
    const mail = await auth.mail.latestTo(email);
    const code = /sign-in code is (\d{6})/.exec(mail.text)?.[1] ?? "";
    const wrong = code === "000000" ? "111111" : "000000";
    const error = await rejection(auth.client.signInWithCode(flowId, email, wrong));
    expect(error.messageIds).toContain(4010008);
  });
});

describe("sessions and tokens", () => {
  test("getUser verifies the session on the server; signed-out and made-up tokens get no user", async () => {
    const { sessionToken, session } = await auth.client.signUp("grace@example.test", PASSWORD);
    expect(await auth.client.getUser(sessionToken)).toMatchObject({
      id: session.identity.id,
      traits: { email: "grace@example.test" },
    });
    expect(await auth.client.getUser("ory_st_made_up_token")).toBeUndefined();
    await auth.client.signOut(sessionToken);
    expect(await auth.client.getUser(sessionToken)).toBeUndefined();
  });

  test("the access token is an HS256 JWT with Supabase's claims, signed with the data folder's secret", async () => {
    const { sessionToken, session } = await auth.client.signUp("heidi@example.test", PASSWORD);
    const token = await auth.client.accessToken(sessionToken);
    expect(decodeProtectedHeader(token).alg).toBe("HS256");
    const claims = await verifyAccessToken(token, auth.jwtSecret);
    expect(claims).toMatchObject({
      sub: session.identity.id,
      role: "authenticated",
      aud: "authenticated",
      email: "heidi@example.test",
      iss: auth.authUrl,
    });
    await expect(verifyAccessToken(token, "x".repeat(40))).rejects.toThrow(/not valid/);
  });

  test("auth.uid() reads the token's claims and RLS shows each user only their own customer row", async () => {
    const ivan = await auth.client.signUp("ivan@example.test", PASSWORD);
    const judy = await auth.client.signUp("judy@example.test", PASSWORD);
    for (const user of [ivan, judy])
      await db.pool.query("insert into public.customers (user_id, email) values ($1, $2)", [
        user.session.identity.id,
        user.session.identity.traits.email,
      ]);

    const claims = await verifyAccessToken(await auth.client.accessToken(ivan.sessionToken), auth.jwtSecret);
    const seen = await withUser(db.pool, claims, async (client) => {
      const uid = await client.query<{ uid: string; email: string }>(
        "select auth.uid() as uid, auth.email() as email",
      );
      const customers = await client.query<{ email: string }>("select email from public.customers");
      return { ...uid.rows[0], customers: customers.rows.map((row) => row.email) };
    });
    expect(seen).toEqual({
      uid: ivan.session.identity.id,
      email: "ivan@example.test",
      customers: ["ivan@example.test"],
    });
  });
});

describe("gateway and keys", () => {
  test("anon and service_role keys are HS256 JWTs with Supabase's role claims", async () => {
    const secret = new TextEncoder().encode(auth.jwtSecret);
    for (const [key, role] of [
      [auth.anonKey, "anon"],
      [auth.serviceRoleKey, "service_role"],
    ] as const) {
      const { payload, protectedHeader } = await jwtVerify(key, secret);
      expect(protectedHeader.alg).toBe("HS256");
      expect(payload).toMatchObject({ role, iss: "supabase" });
    }
  });

  test("the admin API answers only to the service_role key; only /auth/v1 is served", async () => {
    const admin = `${auth.url}/auth/v1/admin/identities`;
    expect((await fetch(admin)).status).toBe(401);
    expect((await fetch(admin, { headers: { apikey: auth.anonKey } })).status).toBe(401);
    const answer = await fetch(admin, { headers: { authorization: `Bearer ${auth.serviceRoleKey}` } });
    expect(answer.status).toBe(200);
    const emails = ((await answer.json()) as Array<{ traits: { email: string } }>).map((i) => i.traits.email);
    expect(emails).toContain("alice@example.test");
    expect((await fetch(`${auth.url}/rest/v1/customers`)).status).toBe(404);
    expect((await fetch(`${auth.url}/auth/v1/health/ready`)).status).toBe(200);
  });
  test("deleting an identity through the admin API removes its auth.users row and signs it out", async () => {
    const { sessionToken, session } = await auth.client.signUp("olivia@example.test", PASSWORD);
    const answer = await fetch(`${auth.url}/auth/v1/admin/identities/${session.identity.id}`, {
      method: "DELETE",
      headers: { apikey: auth.serviceRoleKey },
    });
    expect(answer.status).toBe(204);
    const { rowCount } = await db.pool.query("select 1 from auth.users where id = $1", [session.identity.id]);
    expect(rowCount).toBe(0);
    expect(await auth.client.getUser(sessionToken)).toBeUndefined();
  });
});

describe("restart", () => {
  test("a restart on the same data folder keeps accounts, the secret and the keys", async () => {
    const dataDir = `${auth.dataDir}-restart`;
    const first = await testAuthServer(db, { dataDir });
    let second: TestAuthServer | undefined;
    try {
      await first.client.signUp("mallory@example.test", PASSWORD);
      await first.stop();
      second = await testAuthServer(db, { dataDir });
      expect(second.anonKey).toBe(first.anonKey);
      expect(second.jwtSecret).toBe(first.jwtSecret);
      const signedIn = await second.client.signInWithPassword("mallory@example.test", PASSWORD);
      expect(decodeJwt(await second.client.accessToken(signedIn.sessionToken)).email).toBe(
        "mallory@example.test",
      );
    } finally {
      await first.stop();
      await second?.stop();
      const { rmSync } = await import("node:fs");
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
