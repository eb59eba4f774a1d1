/**
 * Into MindRoom, end to end in headless Chromium on the real pipeline (local Stripe → webhook
 * service → worker → Pulumi engine → Dokku test host), with what cannot run here stood in for by
 * the real thing where it exists:
 * - the tenant's MindRoom sign-in: testing/runtime/platform_auth.py, the checks of
 *   mindroom/api/auth.py with PyJWT, started from the environment the stack gave the runtime app
 *   (the runtime needs Python >= 3.12); the browser reaches it at the tenant's own https origin;
 * - the tenant's homeserver: a real Synapse (testing/synapse.ts) started from the homeserver.yaml,
 *   signing key and registrations the stack wrote into the homeserver's storage entry.
 * Sign up → Checkout → running → "Open MindRoom" (a single-use ticket the runtime accepts, another
 * tenant refuses) → a Matrix account (a real client login) and a password reset → model keys (in
 * the runtime's config only, nowhere in plain text) → a bridge enabled (Synapse loads its
 * registration) and disabled (registration and app gone).
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseSlug, tenantNames } from "../../components/tenantNames.ts";
import { parseTenantSpec } from "../../components/tenantSpec.ts";
import type { Instance } from "../../database/instances.ts";
import { operationsForInstance } from "../../database/operations.ts";
import { runDokku } from "../../testing/dokkuClient.ts";
import { dokkuTarget } from "../../testing/dokkuTarget.ts";
import { freePort } from "../../testing/freePort.ts";
import { pyyaml } from "../../testing/pyyaml.ts";
import { type RuntimeAuth, startRuntimeAuth } from "../../testing/runtimeAuth.ts";
import { type LocalSynapse, startTenantSynapse } from "../../testing/synapse.ts";
import { expectTenant, observeTenant } from "../../testing/tenantObserver.ts";
import { accessibilityProblems } from "./accessibility.ts";
import { openBrowser, type Session } from "./browser.ts";
import { type PortalEnvironment, startPortalEnvironment } from "./environment.ts";
import {
  instanceSettledAs,
  OPERATION_TIMEOUT,
  payForStarter,
  settled,
  signUp,
  untilWorker,
} from "./journey.ts";

const target = dokkuTarget();
const tag = randomBytes(3).toString("hex");
const password = "violet-harbor-lantern-91";
const people = { ada: `ada-${tag}@example.com`, bob: `bob-${tag}@example.com` } as const;
const OPENAI_KEY = `sk-proj-${randomBytes(24).toString("hex")}`;
const OPENAI_KEY_2 = `sk-proj-${randomBytes(24).toString("hex")}`;
const work = mkdtempSync(join(tmpdir(), "mindroom-into-"));

let env: PortalEnvironment;
let ada: Session;
let bob: Session;
let synapsePort: number;
let synapse: LocalSynapse | undefined;
/** Each tenant's MindRoom sign-in, by slug. */
const runtimes = new Map<string, RuntimeAuth>();
/** The ticket exchanges the browser made, in order. */
const exchanges: string[] = [];
/** The Telegram bridge's appservice token, from its registration file. */
let bridgeToken = "";

async function dokkuJson<T>(command: string): Promise<T> {
  const result = await runDokku(target, command, { quiet: true });
  expect(result.code, `${command}: ${result.stderr}`).toBe(0);
  return JSON.parse(result.stdout) as T;
}

/** The environment the tenant's stack gave its runtime app, read through Dokku. */
const runtimeEnv = (slug: string) =>
  dokkuJson<Record<string, string>>(`config:export --format json ${tenantNames(parseSlug(slug)).runtimeApp}`);

/** Where the homeserver's storage entry lives on the test host (Dokku says). */
async function homeserverStorage(slug: string): Promise<string> {
  const info = await dokkuJson<{ host_path: string }>(
    `storage:info ${tenantNames(parseSlug(slug)).homeserverStorage} --format json`,
  );
  return info.host_path;
}

const TENANT_ORIGIN = /^https:\/\/[a-z0-9-]+\.mindroom\.test\//;

/**
 * A page that sends the browser on to `to`. Playwright routes only the first URL of a redirect
 * chain, so a redirect into a tenant's origin (or onwards inside it) is replayed as one more
 * navigation, which the tenant route below then serves.
 */
function hop(to: string, headers: Record<string, string> = {}) {
  const href = to.replaceAll("&", "&amp;").replaceAll('"', "&quot;");
  return {
    status: 200,
    headers: { ...headers, "content-type": "text/html" },
    body: `<!doctype html><meta http-equiv="refresh" content="0;url=${href}">`,
  };
}

/** The browser reaches each tenant's public origin, served by that tenant's runtime sign-in. */
async function routeTenants(context: BrowserContext) {
  await context.route(TENANT_ORIGIN, async (route) => {
    const url = new URL(route.request().url());
    const runtime = runtimes.get(url.hostname.split(".")[0] ?? "");
    if (!runtime) return route.fulfill({ status: 502, body: `no runtime for ${url.hostname}` });
    if (url.pathname === "/api/auth/platform-sso") exchanges.push(url.href);
    const answer = await fetch(`${runtime.url}${url.pathname}${url.search}`, {
      redirect: "manual",
      headers: { cookie: (await route.request().headerValue("cookie")) ?? "" },
    });
    const headers: Record<string, string> = {};
    answer.headers.forEach((value, name) => {
      headers[name] = value;
    });
    const { location, "content-length": _length, ...kept } = headers;
    if (location) return route.fulfill(hop(new URL(location, url).href, kept));
    await route.fulfill({ status: answer.status, headers, body: Buffer.from(await answer.arrayBuffer()) });
  });
  // The portal's "Open MindRoom" redirects into the tenant's origin.
  await context.route(
    (url) => url.origin === new URL(env.url).origin && url.pathname === "/sso/mindroom",
    async (route) => {
      const answer = await route.fetch({ maxRedirects: 0 });
      const location = new URL(answer.headers().location ?? "", env.url).href;
      if (TENANT_ORIGIN.test(location)) return route.fulfill(hop(location));
      await route.fulfill({ response: answer });
    },
  );
}

async function subscribe(session: Session, email: string): Promise<Instance> {
  await signUp(session.page, env.url, email, password);
  await payForStarter(session.page, email, "Ada Lovelace");
  // Both customers pay at once: the worker may run the other's first up before this one's.
  return untilWorker("the tenant to run with single sign-on", async () => {
    const row = await instanceSettledAs(env, email, "running", 2 * OPERATION_TIMEOUT);
    return row.spec?.platformAuth ? row : undefined;
  });
}

/** What the tenant's dashboard answers once the browser has arrived there signed in (after any hops). */
async function signedInDashboard(page: Page): Promise<{ dashboard?: boolean; account?: string }> {
  const body = async () => {
    const text =
      (await page
        .locator("body")
        .textContent()
        .catch(() => null)) ?? "";
    return text.includes('"dashboard"')
      ? (JSON.parse(text) as { dashboard?: boolean; account?: string })
      : {};
  };
  await expect.poll(async () => (await body()).dashboard).toBe(true);
  return body();
}

/** "Open MindRoom": a new tab, followed until the tenant's dashboard answers. */
async function openMindRoom(page: Page): Promise<{ tab: Page; account?: string }> {
  const opened = page.context().waitForEvent("page");
  await page.getByTestId("open-mindroom").click();
  const tab = await opened;
  const { account } = await signedInDashboard(tab);
  return { tab, ...(account ? { account } : {}) };
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    const stat = statSync(path, { throwIfNoEntry: false });
    return !stat ? [] : stat.isDirectory() ? filesUnder(path) : stat.size < 20_000_000 ? [path] : [];
  });
}

beforeAll(async () => {
  synapsePort = await freePort();
  env = await startPortalEnvironment({
    pipeline: { deletionGrace: "1h", env: { MINDROOM_HOMESERVER: "synapse" } },
    // The portal reaches tenants' homeservers here: the local Synapse stands in for the tenant's.
    env: {
      MINDROOM_TENANT_HOMESERVER_URL: `http://127.0.0.1:${synapsePort}`,
      // An operator's own web client that takes the homeserver from its link.
      MINDROOM_MATRIX_CLIENT_URL: "https://chat.mindroom.test/#/login?hs_url={homeserver}",
    },
  });
  [ada, bob] = await Promise.all([openBrowser(), openBrowser()]);
  await Promise.all([routeTenants(ada.context), routeTenants(bob.context)]);
});

afterAll(async () => {
  await synapse?.stop();
  for (const runtime of runtimes.values()) await runtime.stop();
  await ada?.close();
  await bob?.close();
  await env?.stop();
  rmSync(work, { recursive: true, force: true });
});

// Every step waits on the real pipeline (engine operations of 10–60 s on a loaded machine).
describe("a customer gets into their MindRoom", { timeout: 2 * OPERATION_TIMEOUT }, () => {
  let adaRow: Instance;
  let bobRow: Instance;

  it("pays, and the tenant runs in platform auth mode for its owner", {
    timeout: 3 * OPERATION_TIMEOUT,
  }, async () => {
    [adaRow, bobRow] = await Promise.all([subscribe(ada, people.ada), subscribe(bob, people.bob)]);
    for (const row of [adaRow, bobRow]) {
      expectTenant(await observeTenant(target, tenantNames(parseSlug(row.slug))), parseTenantSpec(row.spec));
      const runtime = await runtimeEnv(row.slug);
      const { rows } = await env.db.pool.query<{ user_id: string }>(
        "select user_id from public.customers where id = $1",
        [row.customerId],
      );
      expect(runtime.ACCOUNT_ID).toBe(rows[0]?.user_id);
      expect(runtime.MINDROOM_PUBLIC_URL).toBe(`https://${row.slug}.mindroom.test`);
      expect(runtime.MINDROOM_PLATFORM_SSO_URL).toBe(`${env.url}/sso/mindroom`);
      expect(runtime.MINDROOM_PLATFORM_SSO_SECRET).toMatch(/^[0-9a-f]{64}$/);
      runtimes.set(row.slug, await startRuntimeAuth(runtime));
    }
  });

  it("opens MindRoom: the portal's ticket passes the runtime's checks once, and another tenant refuses it", async () => {
    await ada.page.goto(`${env.url}/dashboard`);
    await settled(ada.page);
    const { tab, account } = await openMindRoom(ada.page);
    expect(tab.url()).toBe(`https://${adaRow.slug}.mindroom.test/`);
    expect(account).toBe((await runtimeEnv(adaRow.slug)).ACCOUNT_ID);
    const cookies = await ada.context.cookies(`https://${adaRow.slug}.mindroom.test/`);
    expect(cookies.find((c) => c.name === "__Host-mindroom_platform_session")).toMatchObject({
      httpOnly: true,
      secure: true,
    });
    await tab.close();

    const exchange = new URL(exchanges.at(-1) ?? "");
    expect(exchange.origin).toBe(`https://${adaRow.slug}.mindroom.test`);
    expect(exchange.pathname).toBe("/api/auth/platform-sso");
    const ticket = exchange.searchParams.get("ticket") ?? "";
    const present = (runtime: RuntimeAuth | undefined) =>
      fetch(`${runtime?.url}/api/auth/platform-sso?ticket=${encodeURIComponent(ticket)}&next=/`, {
        redirect: "manual",
      }).then((r) => r.status);
    // Single use, and worthless at another tenant (other key, other audience).
    expect(await present(runtimes.get(adaRow.slug))).toBe(401);
    expect(await present(runtimes.get(bobRow.slug))).toBe(401);

    // Bob's own button signs Bob in at his tenant.
    await bob.page.goto(`${env.url}/dashboard`);
    await settled(bob.page);
    const { tab: bobTab } = await openMindRoom(bob.page);
    expect(bobTab.url()).toBe(`https://${bobRow.slug}.mindroom.test/`);
    await bobTab.close();
  });

  it("is sent through the portal when they reach MindRoom signed out there", async () => {
    const page = await ada.context.newPage();
    await ada.context.clearCookies({ domain: `${adaRow.slug}.mindroom.test` });
    await page.goto(`https://${adaRow.slug}.mindroom.test/agents`);
    await signedInDashboard(page);
    expect(page.url()).toBe(`https://${adaRow.slug}.mindroom.test/agents`);
    await page.close();
  });

  it("creates a Matrix account on their homeserver and signs in with a real Matrix client login", async () => {
    synapse = await startTenantSynapse({
      storageDir: await homeserverStorage(adaRow.slug),
      port: synapsePort,
      workDir: join(work, "synapse"),
    });
    const page = ada.page;
    await page.goto(`${env.url}/mindroom`);
    await settled(page);
    expect(await accessibilityProblems(page), "/mindroom").toEqual([]);
    await page.getByLabel("Username").fill("ada");
    await page.getByLabel("Password", { exact: true }).fill("matrix-password-one");
    await page.getByLabel("Repeat password", { exact: true }).fill("matrix-password-one");
    await page.getByRole("button", { name: "Create Matrix account" }).click();
    const matrixId = `@ada:${adaRow.slug}.mindroom.test`;
    await expect.poll(() => page.getByTestId("matrix-id").textContent()).toBe(matrixId);
    expect(await page.getByTestId("homeserver-url").textContent()).toBe(
      `https://${adaRow.slug}.matrix.mindroom.test`,
    );
    expect(await page.getByTestId("matrix-client").getAttribute("href")).toContain(
      encodeURIComponent(`https://${adaRow.slug}.matrix.mindroom.test`),
    );
    await ada.screenshot("mindroom-matrix-account");

    const login = (pw: string) =>
      fetch(`${synapse?.url}/_matrix/client/v3/login`, {
        method: "POST",
        body: JSON.stringify({
          type: "m.login.password",
          identifier: { type: "m.id.user", user: "ada" },
          password: pw,
        }),
      });
    const first = await login("matrix-password-one");
    expect(first.status).toBe(200);
    expect(await first.json()).toMatchObject({ user_id: matrixId });
    // The platform kept no password.
    const { rows } = await env.db.pool.query("select * from public.matrix_accounts where instance_id = $1", [
      adaRow.id,
    ]);
    expect(JSON.stringify(rows)).not.toContain("matrix-password-one");
    expect(env.output()).not.toContain("matrix-password-one");

    await page.getByLabel("New password", { exact: true }).fill("matrix-password-two");
    await page.getByLabel("Repeat new password").fill("matrix-password-two");
    await page.getByRole("button", { name: "Set new password" }).click();
    await expect.poll(() => page.getByText("Password changed.").count()).toBe(1);
    expect((await login("matrix-password-one")).status).toBe(403);
    expect((await login("matrix-password-two")).status).toBe(200);
  });

  it("sets a model key that reaches only the runtime's config, shown afterwards as its last four characters", async () => {
    const page = ada.page;
    const before = (await operationsForInstance(env.db.pool, adaRow.id)).length;
    await page.getByLabel("Provider").selectOption("openai");
    await page.getByLabel("API key").fill(OPENAI_KEY);
    await page.getByRole("button", { name: "Save key" }).click();
    await expect.poll(() => page.getByText("Saved.").count()).toBe(1);
    await untilWorker("the key in the runtime's config", async () =>
      (await runtimeEnv(adaRow.slug)).OPENAI_API_KEY === OPENAI_KEY ? true : undefined,
    );
    await instanceSettledAs(env, people.ada, "running");
    await page.reload();
    await settled(page);
    expect(await page.getByTestId("model-keys").textContent()).toContain(`••••${OPENAI_KEY.slice(-4)}`);
    expect(await page.content()).not.toContain(OPENAI_KEY);

    // Replaced: the worker changes only the runtime app's config (its component and config command).
    await page.getByLabel("Provider").selectOption("openai");
    await page.getByLabel("API key").fill(OPENAI_KEY_2);
    await page.getByRole("button", { name: "Save key" }).click();
    await untilWorker("the new key in the runtime's config", async () =>
      (await runtimeEnv(adaRow.slug)).OPENAI_API_KEY === OPENAI_KEY_2 ? true : undefined,
    );
    await instanceSettledAs(env, people.ada, "running");
    const ops = await operationsForInstance(env.db.pool, adaRow.id);
    expect(ops.length).toBe(before + 2);
    const { same: _same, ...changed } = ops[0]?.changes ?? {};
    expect(changed).toEqual({ update: 2 });
    const homeserverConfig = await dokkuJson<Record<string, string>>(
      `config:export --format json ${tenantNames(parseSlug(adaRow.slug)).homeserverApp}`,
    );
    expect(JSON.stringify(homeserverConfig)).not.toContain(OPENAI_KEY_2);
  });

  it("never shows or stores the keys in plain text: not in logs, state, command lines or the portal", async () => {
    const leaks = (text: string) => text.includes(OPENAI_KEY) || text.includes(OPENAI_KEY_2);
    expect(leaks(env.output()), "portal logs").toBe(false);
    expect(leaks(env.pipeline?.logs() ?? ""), "worker logs").toBe(false);
    expect(leaks(JSON.stringify((await target.commandLog?.()) ?? [])), "host command lines").toBe(false);
    // Pulumi state, stack config, the worker's files: everything in its data folder.
    const dataDir = join(env.buildDir, "..");
    for (const file of filesUnder(dataDir)) expect(leaks(readFileSync(file, "latin1")), file).toBe(false);
    const { rows } = await env.db.pool.query("select * from public.provider_keys");
    expect(leaks(JSON.stringify(rows)), "database").toBe(false);
    const page = ada.page;
    for (const path of ["/mindroom", "/dashboard", "/api/instance", "/api/account/export"]) {
      const answer = await page.request.get(`${env.url}${path}`);
      expect(leaks(await answer.text()), path).toBe(false);
    }
  });

  it("enables a bridge: its app runs on the tenant network and Synapse loads its registration", async () => {
    const page = ada.page;
    await page.goto(`${env.url}/mindroom`);
    await settled(page);
    await page.getByRole("button", { name: "Enable Telegram" }).click();
    await expect.poll(() => page.getByText("Bridge enabled").count()).toBe(1);
    const row = await untilWorker("the bridge to be applied", async () => {
      const r = await instanceSettledAs(env, people.ada, "running");
      return r.spec?.bridges ? r : undefined;
    });
    const names = tenantNames(parseSlug(row.slug));
    expectTenant(await observeTenant(target, names), parseTenantSpec(row.spec));
    const disableButtons = async () => {
      await page.reload();
      return page.getByRole("button", { name: "Disable Telegram" }).count();
    };
    await expect.poll(disableButtons, { timeout: 30_000 }).toBe(1);
    // A second bridge exceeds the Starter plan.
    await page.getByRole("button", { name: "Enable Slack" }).click();
    // The refusal is the alert; the card's own "Your plan includes 1 bridge." line is always there.
    const refusal = page
      .getByRole("alert")
      .filter({ hasText: "Your plan includes 1 bridge: disable one first" });
    await expect.poll(() => refusal.count()).toBe(1);
    expect(await page.getByRole("button", { name: "Disable Slack" }).count()).toBe(0);

    // The homeserver was restarted with the registration; ours restarts from the same files.
    const storage = await homeserverStorage(row.slug);
    const registration = pyyaml(readFileSync(join(storage, "appservices", "telegram.yaml"), "utf8")) as {
      as_token: string;
      url: string;
    };
    expect(registration.url).toBe(`http://${names.bridgeApps.telegram}.web:29317`);
    await synapse?.restart();
    const whoami = await fetch(`${synapse?.url}/_matrix/client/v3/account/whoami`, {
      headers: { authorization: `Bearer ${registration.as_token}` },
    });
    expect(whoami.status).toBe(200);
    expect(await whoami.json()).toMatchObject({ user_id: `@telegrambot:${row.slug}.mindroom.test` });
    await ada.screenshot("mindroom-bridges");
    bridgeToken = registration.as_token;
  });

  it("disables the bridge: its app and its registration are gone, and Synapse no longer knows it", async () => {
    const page = ada.page;
    await page.getByRole("button", { name: "Disable Telegram" }).click();
    await expect.poll(() => page.getByText("Bridge disabled.").count()).toBe(1);
    const row = await untilWorker("the bridge to be removed", async () => {
      const r = await instanceSettledAs(env, people.ada, "running");
      return r.spec && !r.spec.bridges ? r : undefined;
    });
    const names = tenantNames(parseSlug(row.slug));
    const observed = await observeTenant(target, names);
    expect(observed.apps).not.toContain(names.bridgeApps.telegram);
    expect(observed.storage).not.toContain(names.bridgeStorage.telegram);
    expectTenant(observed, parseTenantSpec(row.spec));
    const storage = await homeserverStorage(row.slug);
    expect(readdirSync(join(storage, "appservices"))).toEqual([]);
    expect(
      (
        pyyaml(readFileSync(join(storage, "homeserver.yaml"), "utf8")) as {
          app_service_config_files: string[];
        }
      ).app_service_config_files,
    ).toEqual([]);
    await synapse?.restart();
    const whoami = await fetch(`${synapse?.url}/_matrix/client/v3/account/whoami`, {
      headers: { authorization: `Bearer ${bridgeToken}` },
    });
    expect(whoami.status).toBe(401);
  });

  it("keeps the console free of errors", () => {
    expect([...ada.errors, ...bob.errors].filter((e) => e.includes(env.url))).toEqual([]);
  });
});
