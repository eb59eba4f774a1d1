/**
 * The portal's rate limits against the built server and its Postgres, with small budgets
 * (`PORTAL_RATE_LIMITS`): each limited route (sign-in, sign-up, sign-in links, redeeming a link,
 * password reset requests, new passwords, server functions) answers 429 with Retry-After and a sentence past its budget, per client
 * address and per account; `X-Forwarded-For` is ignored without a trusted proxy (a client cannot
 * buy a fresh budget by writing it) and read right to left behind one (clients behind the proxy are
 * told apart, and what a client prepends changes nothing). The page shows the message.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AuthClient } from "../../auth-server/client.ts";
import { openBrowser } from "./browser.ts";
import { type PortalEnvironment, startPortalEnvironment } from "./environment.ts";
import { PASSWORD } from "./people.ts";
import {
  type CallResult,
  callServerFunction,
  type ServerFunction,
  serverFunctions,
  serverFunctionUrl,
} from "./serverFunctions.ts";

const BUDGETS = [
  "signIn.address=6/15m",
  "signIn.account=3/15m",
  "signUp.address=3/1h",
  "signUp.account=2/1h",
  "magicLink.address=4/1h",
  "magicLink.account=2/1h",
  "passwordReset.address=3/1h",
  "passwordReset.account=2/1h",
  "passwordChange.address=3/1h",
  "passwordChange.account=2/1h",
  "requests.address=40/1m",
  "requests.account=20/1m",
].join(",");

let counter = 0;
/** A documentation address (TEST-NET-3) no other test uses. */
function freshAddress(): string {
  counter += 1;
  return `203.0.113.${counter}`;
}

function fresh(name: string): string {
  counter += 1;
  return `${name}-${counter}-${Date.now().toString(36)}@example.com`;
}

interface Portal {
  env: PortalEnvironment;
  functions: ServerFunction[];
  call(
    name: string,
    fields: Record<string, string>,
    headers?: Record<string, string>,
    cookie?: string,
  ): Promise<CallResult>;
}

async function portal(env: Record<string, string>): Promise<Portal> {
  const started = await startPortalEnvironment({ env: { PORTAL_RATE_LIMITS: BUDGETS, ...env } });
  const functions = serverFunctions(started.buildDir);
  return {
    env: started,
    functions,
    call: (name, fields, headers = {}, cookie = undefined) => {
      const fn = functions.find((f) => f.name === name);
      if (!fn) throw new Error(`no server function ${name}`);
      const form = new FormData();
      for (const [k, v] of Object.entries(fields)) form.set(k, v);
      return callServerFunction(started.url, fn.id, cookie, form, headers);
    },
  };
}

/** The statuses of repeated calls; every 429 must carry Retry-After and say when to try again. */
async function statuses(calls: (() => Promise<CallResult>)[]): Promise<number[]> {
  const out: number[] = [];
  for (const call of calls) {
    const answer = await call();
    out.push(answer.status);
    if (answer.status === 429) {
      expect(Number(answer.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
      expect(answer.body).toMatch(/Try again in \d+ (second|minute|hour)s?\./);
    }
  }
  return out;
}

function times<T>(n: number, make: (i: number) => T): T[] {
  return Array.from({ length: n }, (_, i) => make(i));
}

describe("without a trusted proxy", () => {
  let p: Portal;

  beforeAll(async () => {
    p = await portal({});
  });

  afterAll(async () => {
    await p?.env.stop();
  });

  it("limits sign-in per address, whatever X-Forwarded-For the client writes", async () => {
    const answers = await statuses(
      times(
        7,
        () => () =>
          p.call(
            "signIn",
            { email: fresh("nobody"), password: "wrong-password-1" },
            { "x-forwarded-for": freshAddress() },
          ),
      ),
    );
    expect(answers).toEqual([200, 200, 200, 200, 200, 200, 429]);
  });

  it("limits sign-up per address", async () => {
    const answers = await statuses(
      times(
        4,
        () => () =>
          p.call(
            "signUp",
            { email: fresh("new"), password: PASSWORD, confirm: PASSWORD },
            { "x-forwarded-for": freshAddress() },
          ),
      ),
    );
    expect(answers).toEqual([200, 200, 200, 429]);
  });

  it("limits sign-in links per address", async () => {
    const answers = await statuses(
      times(
        5,
        () => () => p.call("sendMagicLink", { email: fresh("link") }, { "x-forwarded-for": freshAddress() }),
      ),
    );
    expect(answers).toEqual([200, 200, 200, 200, 429]);
  });

  it("limits password reset requests per address", async () => {
    const answers = await statuses(
      times(
        4,
        () => () =>
          p.call("requestPasswordReset", { email: fresh("reset") }, { "x-forwarded-for": freshAddress() }),
      ),
    );
    expect(answers).toEqual([200, 200, 200, 429]);
  });

  it("limits new passwords per address", async () => {
    const auth = new AuthClient({ authUrl: p.env.auth.authUrl });
    const answers = [];
    for (let i = 0; i < 4; i++) {
      // A different account each time: only the address is shared.
      const signed = await auth.signUp(fresh("changer"), PASSWORD);
      let body = "";
      const change = async () => {
        const answer = await p.call(
          "changePassword",
          { password: `new password ${i}`, confirm: `new password ${i}` },
          { "x-forwarded-for": freshAddress() },
          `mr_session=${signed.sessionToken}`,
        );
        body = answer.body;
        return answer;
      };
      const [status] = await statuses([change]);
      answers.push(status);
      // Allowed ones really changed it (a 200 could also be a refusal the form shows).
      if (status === 200) expect(body).toContain("Your password is changed.");
    }
    expect(answers).toEqual([200, 200, 200, 429]);
  });
});

describe("behind a trusted proxy", () => {
  let p: Portal;
  let auth: AuthClient;

  beforeAll(async () => {
    // The tests reach the portal on loopback: that is "the proxy".
    p = await portal({ MINDROOM_TRUSTED_PROXIES: "127.0.0.1, ::1" });
    auth = new AuthClient({ authUrl: p.env.auth.authUrl });
  });

  afterAll(async () => {
    await p?.env.stop();
  });

  it("limits sign-in per account from any number of addresses, even with the right password after", async () => {
    const email = fresh("target");
    await auth.signUp(email, PASSWORD);
    const guesses = times(
      3,
      (i) => () =>
        p.call("signIn", { email, password: `guess-${i}-wrong` }, { "x-forwarded-for": freshAddress() }),
    );
    const right = () =>
      p.call("signIn", { email, password: PASSWORD }, { "x-forwarded-for": freshAddress() });
    expect(await statuses([...guesses, right])).toEqual([200, 200, 200, 429]);
    const refused = await right();
    expect(refused.status).toBe(429);
    expect(refused.body).toContain("Too many sign-in attempts.");
    expect(refused.headers.getSetCookie()).toEqual([]);
  });

  it("tells clients behind the proxy apart, and ignores what a client puts before the proxy's entry", async () => {
    const client = freshAddress();
    const attempt = (forwardedFor: string) => () =>
      p.call(
        "signIn",
        { email: fresh("spray"), password: "wrong-password-2" },
        { "x-forwarded-for": forwardedFor },
      );
    // Six from one client, then the seventh is refused even with made-up addresses in front.
    expect(
      await statuses([...times(6, () => attempt(client)), attempt(`10.1.1.1, 198.51.100.7, ${client}`)]),
    ).toEqual([200, 200, 200, 200, 200, 200, 429]);
    // Another client behind the same proxy has its own budget.
    expect((await attempt(freshAddress())()).status).toBe(200);
  });

  it("limits sign-up and sign-in links per account", async () => {
    const email = fresh("busy");
    const signUps = times(
      3,
      () => () =>
        p.call(
          "signUp",
          { email, password: PASSWORD, confirm: PASSWORD },
          { "x-forwarded-for": freshAddress() },
        ),
    );
    expect(await statuses(signUps)).toEqual([200, 200, 429]);
    const links = times(
      3,
      () => () => p.call("sendMagicLink", { email }, { "x-forwarded-for": freshAddress() }),
    );
    expect(await statuses(links)).toEqual([200, 200, 429]);
  });

  it("limits password reset requests and new passwords per account", async () => {
    const email = fresh("reset-target");
    const signed = await auth.signUp(email, PASSWORD);
    const resets = times(
      3,
      () => () => p.call("requestPasswordReset", { email }, { "x-forwarded-for": freshAddress() }),
    );
    expect(await statuses(resets)).toEqual([200, 200, 429]);
    const change = (password: string) => () =>
      p.call(
        "changePassword",
        { password, confirm: password },
        { "x-forwarded-for": freshAddress() },
        `mr_session=${signed.sessionToken}`,
      );
    const first = await change("first new password")();
    expect(first.body).toContain("Your password is changed.");
    expect(await statuses([change("second new password"), change("third new password")])).toEqual([200, 429]);
    // The refused one changed nothing: the second is the password now.
    await auth.signInWithPassword(email, "second new password");
    await expect(auth.signInWithPassword(email, "third new password")).rejects.toThrow(/sign-in failed/);
  });

  it("limits redeeming an emailed link like a sign-in, with a page saying when to try again", async () => {
    const email = fresh("codes");
    const redeem = () =>
      fetch(`${p.env.url}/auth/confirm/continue?flow=f-1&email=${encodeURIComponent(email)}&code=000000`, {
        method: "POST",
        redirect: "manual",
        headers: { origin: p.env.url, "x-forwarded-for": freshAddress() },
      });
    const answers = [];
    for (let i = 0; i < 4; i++) answers.push(await redeem());
    expect(answers.map((a) => a.status)).toEqual([303, 303, 303, 429]);
    const last = answers[3] as Response;
    expect(Number(last.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(await last.text()).toContain("Too many sign-in attempts");
  });

  it("limits server functions per address and per account", async () => {
    const session = p.functions.find((f) => f.name === "session");
    const query = async (headers: Record<string, string>, cookie?: string): Promise<CallResult> => {
      const answer = await fetch(await serverFunctionUrl(p.env.url, session?.id ?? ""), {
        headers: {
          "sec-fetch-site": "same-origin",
          "x-server-instance": "server-fn:0",
          ...headers,
          ...(cookie ? { cookie } : {}),
        },
      });
      // The client throws the X-Error message; the body says the same.
      if (answer.status === 429) expect(answer.headers.get("x-error")).toContain("Too%20many%20requests");
      return { status: answer.status, location: null, headers: answer.headers, body: await answer.text() };
    };
    const address = freshAddress();
    expect(await statuses(times(41, () => () => query({ "x-forwarded-for": address })))).toEqual([
      ...times(40, () => 200),
      429,
    ]);
    const signed = await auth.signUp(fresh("reader"), PASSWORD);
    const cookie = `mr_session=${signed.sessionToken}`;
    expect(
      await statuses(times(21, () => () => query({ "x-forwarded-for": freshAddress() }, cookie))),
    ).toEqual([...times(20, () => 200), 429]);
  });

  it("shows the message on the sign-in page", async () => {
    const email = fresh("typo");
    await auth.signUp(email, PASSWORD);
    const browser = await openBrowser();
    try {
      const page = browser.page;
      await page.goto(`${p.env.url}/login`);
      for (let i = 0; i < 4; i++) {
        await page.getByLabel("Email", { exact: true }).fill(email);
        await page.getByLabel("Password", { exact: true }).fill(`not-it-${i}`);
        await page.getByRole("button", { name: "Sign in", exact: true }).click();
        await page.waitForLoadState("networkidle");
      }
      await expect
        .poll(() =>
          page.getByRole("alert").filter({ hasText: "Too many sign-in attempts. Try again in" }).count(),
        )
        .toBe(1);
    } finally {
      await browser.close();
    }
  });
});
