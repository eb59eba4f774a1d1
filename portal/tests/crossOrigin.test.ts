/**
 * No state change without intent, in real Chromium. A signed-in victim (a paying customer who is
 * also an operator, so every server function would act for them) visits pages on two other
 * origins: a cross-site one (`127.0.0.1` while the portal is `localhost`: the browser sends the
 * `SameSite=Lax` session cookie only on top-level GETs) and a same-site one (`localhost` on
 * another port, like a customer's instance on a sibling subdomain: the browser sends the cookie
 * with every request). Each tries links, images, self-submitting forms (GET and POST, urlencoded
 * and multipart) and fetches (no-cors, and with SolidStart's headers) against every server
 * function found in the built client and every API route in `src/routes`. Nothing may change: the
 * platform database, the local Stripe API's whole state, the mail the auth server sent and the
 * victim's session are compared before and after. The same button on the portal's own page then
 * does act, so the victim's session was able to.
 *
 * Also: a forged `next` (sign-in form, emailed link) never leads anywhere but a known page.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import type { Page } from "playwright-core";
import type Stripe from "stripe";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AuthClient } from "../../auth-server/client.ts";
import { stripeClient } from "../../billing/stripeClient.ts";
import { type AttackerSite, type Attempt, type Fields, startAttackerSite } from "./attackerSite.ts";
import { openBrowser, type Session } from "./browser.ts";
import { PORTAL_DIR, type PortalEnvironment, startPortalEnvironment } from "./environment.ts";
import { PASSWORD, type Person, seedPerson } from "./people.ts";
import {
  SESSION_ACTIONS,
  type ServerFunction,
  serverFunctions,
  serverFunctionUrl,
} from "./serverFunctions.ts";

let env: PortalEnvironment;
let stripe: Stripe;
let auth: AuthClient;
let victim: Person;
let attacker: Person;
let browser: Session;
let functions: ServerFunction[];
const sites: AttackerSite[] = [];

/** What a forged password change would set (the victim's own PASSWORD must keep working). */
const FORGED_PASSWORD = "forged by another site";

/** What a form for a named server function carries: enough for each to act if it ran. */
function accountFields(): Fields {
  return {
    action: "restart",
    confirm: "DELETE",
    tier: "professional",
    instanceId: victim.instanceId,
    deadLetterId: "1",
    reason: "forged by another site",
  };
}

/** The fields each server function gets: enough for it to act if it ran. */
function fieldSets(name: string | undefined): Fields[] {
  if (SESSION_ACTIONS.includes(name ?? "")) return authFieldSets();
  if (name === "changePassword") return [{ password: FORGED_PASSWORD, confirm: FORGED_PASSWORD }];
  return [accountFields()];
}

/** For the sign-in forms: the attacker's own account (login CSRF), and a new one (sign-up, a mail). */
function authFieldSets(): Fields[] {
  return [
    { email: attacker.email, password: PASSWORD, next: "/dashboard" },
    {
      email: `fresh-${Date.now().toString(36)}@example.com`,
      password: PASSWORD,
      confirm: PASSWORD,
      next: "/dashboard",
    },
  ];
}

/** Every API route (a `src/routes` file exporting a method handler), as a URL for the victim. */
function apiRoutes(confirmQuery: string): { path: string; methods: string[] }[] {
  const routes = join(PORTAL_DIR, "src", "routes");
  const files = readdirSync(routes, { recursive: true, encoding: "utf8" }).filter((f) => /\.tsx?$/.test(f));
  return files.flatMap((file) => {
    const methods = [
      ...readFileSync(join(routes, file), "utf8").matchAll(
        /export (?:async )?function (GET|POST|PUT|PATCH|DELETE)\b/g,
      ),
    ].map((m) => m[1] ?? "");
    if (methods.length === 0) return [];
    const path = `/${relative(routes, join(routes, file))}`
      .replace(/\.tsx?$/, "")
      .replace(/\/index$/, "")
      .replace(/\[id\]/, victim.instanceId);
    return [{ path: path === "/auth/confirm" ? `${path}?${confirmQuery}` : path, methods }];
  });
}

async function databaseState(): Promise<unknown> {
  // Everything a request could change, except the rate limiter's own counters.
  const { rows } = await env.db.pool.query(`select json_build_object(
      'customers', (select json_agg(c order by c.id) from public.customers c),
      'subscriptions', (select json_agg(s order by s.id) from public.subscriptions s),
      'instances', (select json_agg(i order by i.id) from public.instances i),
      'operations', (select json_agg(o order by o.id) from public.operations o),
      'audit', (select json_agg(a order by a.id) from public.audit_log a),
      'operators', (select json_agg(o order by o.user_id) from public.operators o),
      'users', (select json_agg(u.id order by u.id) from auth.users u)) as state`);
  // The queue's schema appears with the first job anyone queues.
  const queue = await env.db.pool.query("select to_regclass('pgboss.job') is not null as exists");
  const jobs = queue.rows[0]?.exists
    ? (await env.db.pool.query("select count(*)::int as n from pgboss.job")).rows[0]?.n
    : 0;
  return { ...rows[0]?.state, jobs };
}

async function sessionCookie(): Promise<string | undefined> {
  return (await browser.context.cookies(env.url)).find((c) => c.name === "mr_session")?.value;
}

async function everything() {
  return {
    database: await databaseState(),
    stripe: JSON.parse(JSON.stringify(env.stripe.state())),
    mails: env.auth.mail.messages().length,
    session: await sessionCookie(),
  };
}

/** Runs one attempt and waits until the browser has left the attacker's page (or downloaded something). */
async function run(page: Page, site: AttackerSite, attempt: Attempt): Promise<void> {
  const url = site.page(attempt);
  let downloaded = false;
  const onDownload = () => {
    downloaded = true;
  };
  page.on("download", onDownload);
  try {
    await page.goto(url).catch(() => undefined); // a self-submitting form interrupts its own load
    if (attempt.kind === "link") await page.click("#go", { noWaitAfter: true });
    const deadline = Date.now() + 10_000;
    while (!downloaded && page.url().startsWith(site.origin) && Date.now() < deadline) {
      await page.waitForTimeout(50);
    }
    await page.waitForLoadState("load").catch(() => undefined);
  } finally {
    page.off("download", onDownload);
  }
}

async function attack(site: AttackerSite, confirmQuery: string): Promise<number> {
  const page = await browser.context.newPage();
  let attempts = 0;
  const gets: string[] = [];
  const posts: { target: string; fields: Fields; serverId?: string }[] = [];
  for (const fn of functions) {
    for (const fields of fieldSets(fn.name)) {
      const form = new FormData();
      for (const [k, v] of Object.entries(fields)) form.set(k, v);
      const plain = await serverFunctionUrl(env.url, fn.id);
      const withArgs = await serverFunctionUrl(env.url, fn.id, form);
      const args = new URL(withArgs).searchParams.get("args") ?? "";
      const post = `${env.url}/_server?id=${encodeURIComponent(fn.id)}`;
      const tries: Attempt[] = [
        { kind: "link", target: plain },
        { kind: "link", target: withArgs },
        {
          kind: "form",
          method: "get",
          enctype: "application/x-www-form-urlencoded",
          target: `${env.url}/_server`,
          fields: { id: fn.id, args },
        },
        { kind: "form", method: "post", enctype: "application/x-www-form-urlencoded", target: post, fields },
        { kind: "form", method: "post", enctype: "multipart/form-data", target: post, fields },
      ];
      for (const attempt of tries) await run(page, site, attempt);
      attempts += tries.length;
      gets.push(plain, withArgs);
      posts.push({ target: post, fields, serverId: fn.id });
    }
  }
  for (const route of apiRoutes(confirmQuery)) {
    const target = `${env.url}${route.path}`;
    const fields = accountFields();
    const tries: Attempt[] = [
      { kind: "link", target },
      { kind: "form", method: "post", enctype: "application/x-www-form-urlencoded", target, fields },
      { kind: "form", method: "post", enctype: "multipart/form-data", target, fields },
    ];
    for (const attempt of tries) await run(page, site, attempt);
    attempts += tries.length;
    gets.push(target);
    posts.push({ target, fields });
  }
  await page.goto(site.burst({ get: gets, post: posts }));
  await page.waitForFunction(() => document.title === "done", undefined, { timeout: 60_000 });
  await page.close();
  return attempts + gets.length * 2 + posts.length * 3;
}

beforeAll(async () => {
  // The forged-next cases sign the same person in a dozen times.
  env = await startPortalEnvironment({ env: { PORTAL_RATE_LIMITS: "signIn.account=100/15m" } });
  stripe = stripeClient({ secretKey: env.stripe.secretKey, apiBase: env.stripe.url, maxNetworkRetries: 0 });
  auth = new AuthClient({ authUrl: env.auth.authUrl });
  victim = await seedPerson(env, auth, "victim", { billing: stripe, operator: true });
  attacker = await seedPerson(env, auth, "mallory");
  functions = serverFunctions(env.buildDir);
  sites.push(await startAttackerSite("127.0.0.1"), await startAttackerSite("localhost"));
  browser = await openBrowser();
  // The victim is signed in: the portal's own cookie, as sign-in sets it.
  await browser.context.addCookies([
    {
      name: "mr_session",
      value: victim.sessionToken,
      url: env.url,
      httpOnly: true,
      secure: true,
      sameSite: "Lax",
    },
  ]);
});

afterAll(async () => {
  await browser?.close();
  for (const site of sites) await site.stop();
  await env?.stop();
});

describe("another origin", () => {
  it("finds every server function in the build", () => {
    expect(functions.map((f) => f.name)).toEqual(
      expect.arrayContaining([
        ...SESSION_ACTIONS,
        "cancelSubscription",
        "changePassword",
        "deleteAccount",
        "choosePlan",
        "instanceAction",
      ]),
    );
    expect(functions.filter((f) => f.name === undefined)).toEqual([]);
  });

  it.each([
    ["cross-site", 0],
    ["same-site", 1],
  ])(
    "a %s page changes nothing through any server function or API route",
    async (_, index) => {
      const site = sites[index] as AttackerSite;
      // A genuine sign-in link for the attacker's own account: opening it must not sign the victim in.
      const flow = await auth.sendSignInCode(
        attacker.email,
        (id) => `${env.url}/auth/confirm?flow=${id}&email=${encodeURIComponent(attacker.email)}&code=`,
      );
      const mail = await env.auth.mail.waitFor((m) => m.text.includes(`flow=${flow}&`));
      const code = /code=(\d+)/.exec(mail.text)?.[1] ?? "";
      const confirmQuery = `flow=${flow}&email=${encodeURIComponent(attacker.email)}&code=${code}`;

      const before = await everything();
      expect(before.session).toBe(victim.sessionToken);
      const attempts = await attack(site, confirmQuery);
      expect(attempts).toBeGreaterThan(200);
      const after = await everything();
      expect(after).toEqual(before);
      // The password, which none of the above shows: still the victim's own.
      await auth.signInWithPassword(victim.email, PASSWORD);
      await expect(auth.signInWithPassword(victim.email, FORGED_PASSWORD)).rejects.toThrow(/sign-in failed/);
      // Still signed in as themselves.
      const me = await browser.page.request.get(`${env.url}/api/instance`);
      expect(me.status()).toBe(200);
      expect(await me.text()).toContain(victim.slug);
      // Several hundred browser navigations, each waiting for the browser to leave the page.
    },
    900_000,
  );

  it("a GET from the portal's own origin runs reads only: no action, whatever its arguments", async () => {
    // What the router does for queries (GET /_server?id=…&args=…, same-origin fetch metadata), aimed
    // at every function with arguments that would make any action act.
    const before = await everything();
    for (const fn of functions) {
      for (const fields of fieldSets(fn.name)) {
        const form = new FormData();
        for (const [k, v] of Object.entries(fields)) form.set(k, v);
        for (const url of [
          await serverFunctionUrl(env.url, fn.id),
          await serverFunctionUrl(env.url, fn.id, form),
        ]) {
          const answer = await fetch(url, {
            redirect: "manual",
            headers: {
              cookie: victim.cookie,
              "sec-fetch-site": "same-origin",
              "x-server-instance": "server-fn:0",
            },
          });
          await answer.arrayBuffer();
        }
      }
    }
    expect(await everything()).toEqual(before);
  });

  it("the portal's own page does act for the same person (the attacks failed for want of intent alone)", async () => {
    const page = browser.page;
    await page.goto(`${env.url}/billing`);
    await page.getByRole("button", { name: "Cancel subscription" }).click();
    await expect
      .poll(
        async () => (await stripe.subscriptions.retrieve(victim.subscriptionId ?? "")).cancel_at_period_end,
      )
      .toBe(true);
  });
});

describe("a forged next", () => {
  let visitor: Session;

  beforeAll(async () => {
    visitor = await openBrowser();
  });

  afterAll(async () => {
    await visitor?.close();
  });

  const FORGED = [
    "/_server?id=cancel&args=x",
    "//evil.example/",
    "https://evil.example/",
    "/\\evil.example",
    "/%2F%2Fevil.example",
    "/api/account/export",
    "/auth/confirm?flow=x&code=1",
    "javascript:alert(1)",
    "/dashboard/../_server?id=x",
  ];

  it.each(FORGED)("after signing in with next=%s, lands on the dashboard", async (next) => {
    const page = visitor.page;
    await visitor.context.clearCookies();
    await page.goto(`${env.url}/login?next=${encodeURIComponent(next)}`);
    await page.getByLabel("Email", { exact: true }).fill(attacker.email);
    await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
    await page.getByRole("button", { name: "Sign in", exact: true }).click();
    await page.waitForURL((u) => !u.pathname.startsWith("/login"));
    expect(new URL(page.url()).origin + new URL(page.url()).pathname).toBe(`${env.url}/dashboard`);
  });

  it("an emailed sign-in link asked for with a forged next leads to the dashboard, and only after Continue", async () => {
    const page = visitor.page;
    await visitor.context.clearCookies();
    await page.goto(`${env.url}/login?next=${encodeURIComponent("/_server?id=x")}`);
    const sent = env.auth.mail.messages().length;
    await page.getByLabel("Email for a sign-in link").fill(attacker.email);
    await page.getByRole("button", { name: "Email me a sign-in link" }).click();
    await expect.poll(() => env.auth.mail.messages().length).toBe(sent + 1);
    const mail = await env.auth.mail.latestTo(attacker.email);
    const link = new URL(/https?:\/\/\S+\/auth\/confirm\?\S+/.exec(mail.text)?.[0] ?? "http://missing");
    expect(link.searchParams.get("next")).toBe("/dashboard");
    // Opening the link only asks: no session yet.
    await page.goto(link.toString());
    expect(new URL(page.url()).pathname).toBe("/auth/confirm");
    expect((await visitor.context.cookies(env.url)).map((c) => c.name)).not.toContain("mr_session");
    await page.getByRole("button", { name: "Continue" }).click();
    await page.waitForURL((u) => u.pathname === "/dashboard");
    expect((await visitor.context.cookies(env.url)).map((c) => c.name)).toContain("mr_session");
  });
});
