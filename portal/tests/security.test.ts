/**
 * Security of the built portal against the real identity server and Postgres: strangers are
 * redirected or get 401, a customer cannot see or act on another customer's instance through any
 * page, API route or server function (each one called directly, with forged arguments), customers
 * are not operators, and forms answer bad input with the schema's messages.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AuthClient } from "../../auth-server/client.ts";
import { type PortalEnvironment, startPortalEnvironment } from "./environment.ts";
import { PASSWORD, type Person, seedPerson } from "./people.ts";
import {
  callServerFunction,
  SESSION_ACTIONS,
  type ServerFunction,
  serverFunctions,
} from "./serverFunctions.ts";

let env: PortalEnvironment;
let alice: Person;
let bob: Person;
let operatorCookie: string;
let functions: ServerFunction[];

const OPERATOR_FUNCTIONS = [
  "tenants",
  "tenant",
  "liveOutputs",
  "platform",
  "reconcileNow",
  "suspendTenant",
  "resumeTenant",
  "previewTenant",
  "retryDeadLetter",
];

function get(path: string, cookie?: string) {
  return fetch(`${env.url}${path}`, { redirect: "manual", headers: cookie ? { cookie } : {} });
}

/** Everything that identifies Bob; none of it may reach Alice. */
function bobsMarks(): string[] {
  return [bob.email, bob.slug, bob.instanceId, bob.customerId, "secret-bob"];
}

beforeAll(async () => {
  env = await startPortalEnvironment();
  const auth = new AuthClient({ authUrl: env.auth.authUrl });
  alice = await seedPerson(env, auth, "alice");
  bob = await seedPerson(env, auth, "bob");
  const ops = await auth.signUp(`ops-${Date.now().toString(36)}@example.com`, PASSWORD);
  await env.db.pool.query("insert into public.operators (user_id) values ($1)", [ops.session.identity.id]);
  operatorCookie = `mr_session=${ops.sessionToken}`;
  functions = serverFunctions(env.buildDir);
});

afterAll(async () => {
  await env?.stop();
});

describe("without a session", () => {
  it.each(["/dashboard", "/usage", "/billing", "/account", "/operator", "/operator/platform"])(
    "%s redirects to sign-in",
    async (path) => {
      const answer = await get(path);
      expect(answer.status).toBe(302);
      expect(answer.headers.get("location")).toContain(`/login?next=${encodeURIComponent(path)}`);
    },
  );

  it("every response carries a request id, and the request log names it without the query string", async () => {
    const given = await fetch(`${env.url}/dashboard?code=query-secret-1`, {
      redirect: "manual",
      headers: { "x-request-id": "sec-test-1" },
    });
    expect(given.headers.get("x-request-id")).toBe("sec-test-1");
    const fresh = await get("/nope");
    const id = fresh.headers.get("x-request-id") ?? "";
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    // A malformed id from outside is replaced, not echoed.
    const forged = await fetch(`${env.url}/`, { headers: { "x-request-id": "bad id <script>" } });
    expect(forged.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    await new Promise((r) => setTimeout(r, 200));
    const lines = env
      .output()
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toContainEqual(
      expect.objectContaining({
        msg: "request",
        service: "portal",
        requestId: "sec-test-1",
        path: "/dashboard",
        status: 302,
      }),
    );
    expect(lines).toContainEqual(
      expect.objectContaining({ requestId: id, path: "/nope", status: 404, level: "warn" }),
    );
    expect(env.output()).not.toContain("query-secret-1");
  });

  it("a tenant page redirects to sign-in", async () => {
    const answer = await get(`/operator/tenants/${bob.instanceId}`);
    expect(answer.status).toBe(302);
    expect(answer.headers.get("location")).toContain("/login");
  });

  it.each(["/api/instance", "/api/account/export", "/api/operator/tenants"])(
    "%s answers 401",
    async (path) => {
      const answer = await get(path);
      expect(answer.status).toBe(401);
      expect(await answer.json()).toEqual({ error: { code: "unauthenticated", message: "sign in first" } });
    },
  );

  it("every named server function redirects to sign-in and returns no data", async () => {
    const named = functions.filter((f) => f.name !== "session" && !SESSION_ACTIONS.includes(f.name ?? ""));
    expect(named.map((f) => f.name).sort()).toEqual(
      [
        "account",
        "billing",
        "billingPortal",
        "cancelSubscription",
        "changePassword",
        "choosePlan",
        "createMatrixAccount",
        "dashboard",
        "deleteAccount",
        "deleteModelKey",
        "instanceAction",
        "mindroomSetup",
        "reactivateSubscription",
        "resetMatrixPassword",
        "saveModelKey",
        "setBridge",
        "usage",
        ...OPERATOR_FUNCTIONS,
      ].sort(),
    );
    for (const fn of named) {
      const form = new FormData();
      form.set("instanceId", bob.instanceId);
      form.set("reason", "forged request without a session");
      const answer = await callServerFunction(env.url, fn.id, undefined, form);
      expect([fn.name, answer.location]).toEqual([fn.name, expect.stringContaining("/login")]);
      for (const mark of bobsMarks()) expect(answer.body).not.toContain(mark);
    }
  });

  it("a forged session cookie is not trusted", async () => {
    const answer = await get("/api/instance", "mr_session=ory_st_forged0000000000000000000000");
    expect(answer.status).toBe(401);
  });
});

describe("a customer", () => {
  it("sees only their own instance through the API and the dashboard", async () => {
    const answer = await get("/api/instance", alice.cookie);
    expect(answer.status).toBe(200);
    const body = await answer.text();
    expect(body).toContain(alice.slug);
    for (const mark of bobsMarks()) expect(body).not.toContain(mark);
    const page = await (await get("/dashboard", alice.cookie)).text();
    expect(page).toContain(alice.slug);
    for (const mark of bobsMarks()) expect(page).not.toContain(mark);
    // The usage page: her own instance and its day of usage (1000 bytes), none of Bob's.
    const usage = await (await get("/usage", alice.cookie)).text();
    expect(usage).toContain(alice.slug);
    expect(usage).toContain("1000 B");
    for (const mark of bobsMarks()) expect(usage).not.toContain(mark);
  });

  it("exports only their own data", async () => {
    const answer = await get("/api/account/export", alice.cookie);
    expect(answer.status).toBe(200);
    expect(answer.headers.get("content-disposition")).toContain("attachment");
    const data = await answer.json();
    expect(data.customers.map((c: { id: string }) => c.id)).toEqual([alice.customerId]);
    expect(data.instances.map((i: { slug: string }) => i.slug)).toEqual([alice.slug]);
    expect(data.operations).toHaveLength(1);
    for (const mark of bobsMarks()) expect(JSON.stringify(data)).not.toContain(mark);
  });

  it("is not an operator: console pages redirect, operator API routes answer 403", async () => {
    for (const path of ["/operator", "/operator/platform", `/operator/tenants/${bob.instanceId}`]) {
      const answer = await get(path, alice.cookie);
      expect([path, answer.status, answer.headers.get("location")]).toEqual([
        path,
        302,
        expect.stringMatching(/\/dashboard$/),
      ]);
    }
    for (const path of ["/api/operator/tenants", `/api/operator/tenants/${bob.instanceId}`]) {
      const answer = await get(path, alice.cookie);
      expect([path, answer.status]).toEqual([path, 403]);
    }
  });

  it("cannot use an operator server function on another customer's instance", async () => {
    for (const fn of functions.filter((f) => OPERATOR_FUNCTIONS.includes(f.name ?? ""))) {
      const form = new FormData();
      form.set("instanceId", bob.instanceId);
      form.set("deadLetterId", "1");
      form.set("reason", "forged by a customer");
      const answer = await callServerFunction(env.url, fn.id, alice.cookie, form);
      expect([fn.name, answer.location]).toEqual([fn.name, expect.stringMatching(/\/dashboard$/)]);
      for (const mark of bobsMarks()) expect(answer.body).not.toContain(mark);
      const asString = await callServerFunction(env.url, fn.id, alice.cookie, bob.instanceId);
      for (const mark of bobsMarks().slice(0, 2)) expect(asString.body).not.toContain(mark);
    }
    const audit = await env.db.pool.query(
      "select count(*)::int as n from public.audit_log where action like 'operator.%'",
    );
    expect(audit.rows[0]?.n).toBe(0);
    const instance = await env.db.pool.query("select desired_state from public.instances where id = $1", [
      bob.instanceId,
    ]);
    expect(instance.rows[0]?.desired_state).toBe("running");
  });

  it("reads nothing of another customer through the customer server functions", async () => {
    for (const fn of functions.filter((f) =>
      ["dashboard", "billing", "account", "session"].includes(f.name ?? ""),
    )) {
      const answer = await callServerFunction(env.url, fn.id, alice.cookie);
      expect([fn.name, answer.status]).toEqual([fn.name, 200]);
      for (const mark of bobsMarks()) expect(answer.body).not.toContain(mark);
    }
  });

  it("acts only on their own instance, whatever instance id is forged into the form", async () => {
    const fn = functions.find((f) => f.name === "instanceAction");
    const form = new FormData();
    form.set("action", "restart");
    form.set("instanceId", bob.instanceId);
    const answer = await callServerFunction(env.url, fn?.id ?? "", alice.cookie, form);
    expect(answer.body).toContain("Restart queued.");
    const rows = await env.db.pool.query(
      "select instance_id, actor from public.audit_log where action = 'customer.restart'",
    );
    expect(rows.rows).toEqual([{ instance_id: alice.instanceId, actor: `customer:${alice.email}` }]);
    const jobs = await env.db.pool.query(
      "select data->>'customerKey' as key from pgboss.job where name = 'reconcile'",
    );
    const keys = jobs.rows.map((r) => r.key);
    const bobKey = await env.db.pool.query("select stripe_customer_id from public.customers where id = $1", [
      bob.customerId,
    ]);
    expect(keys).not.toContain(bobKey.rows[0]?.stripe_customer_id);
  });
});

describe("an operator", () => {
  it("sees every tenant through the operator API", async () => {
    const answer = await get("/api/operator/tenants?pageSize=50", operatorCookie);
    expect(answer.status).toBe(200);
    const page = await answer.json();
    expect(page.rows.map((r: { slug: string }) => r.slug).sort()).toEqual([alice.slug, bob.slug].sort());
    const one = await get(`/api/operator/tenants/${bob.instanceId}`, operatorCookie);
    expect(one.status).toBe(200);
  });

  it("filters and sorts the table on every column it offers", async () => {
    for (const query of [
      "sort=updated",
      "sort=failures",
      "drift=unknown&sort=tier",
      "failing=yes",
      `q=${alice.slug}`,
    ]) {
      const answer = await get(`/api/operator/tenants?${query}`, operatorCookie);
      expect([query, answer.status]).toEqual([query, 200]);
      const page = await answer.json();
      const expected =
        query === "failing=yes" ? [] : query.startsWith("q=") ? [alice.slug] : [alice.slug, bob.slug].sort();
      expect([query, page.rows.map((r: { slug: string }) => r.slug).sort()]).toEqual([query, expected]);
    }
  });

  it("gets a 400 with the reason for bad filters", async () => {
    const answer = await get("/api/operator/tenants?state=exploded", operatorCookie);
    expect(answer.status).toBe(400);
  });
});

describe("forms", () => {
  const signUpFn = () => functions.filter((f) => f.name === "signUp");

  it("answer bad input with the schema's messages", async () => {
    const form = new FormData();
    form.set("email", "not-an-email");
    form.set("password", "short");
    form.set("confirm", "different");
    const bodies = await Promise.all(
      signUpFn().map((fn) => callServerFunction(env.url, fn.id, undefined, form)),
    );
    const all = bodies.map((b) => b.body).join("\n");
    expect(all).toContain("Enter a valid email address, like name@example.com.");
    expect(all).toContain("Use at least 8 characters for your password.");
  });

  it("an operator action without a reason is refused with a message and not audited", async () => {
    const fn = functions.find((f) => f.name === "reconcileNow");
    const form = new FormData();
    form.set("instanceId", alice.instanceId);
    form.set("reason", "  ");
    const answer = await callServerFunction(env.url, fn?.id ?? "", operatorCookie, form);
    expect(answer.body).toContain("Say why in a few words");
    const audit = await env.db.pool.query(
      "select count(*)::int as n from public.audit_log where action = 'operator.reconcile'",
    );
    expect(audit.rows[0]?.n).toBe(0);
  });
});
