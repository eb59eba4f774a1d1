/**
 * A degraded tenant in the browser, against the built portal: the worker's health check (the real
 * one, over SSH against the Dokku test host) finds the runtime app scaled to 0 behind the
 * platform's back and marks the tenant degraded; its customer sees "Degraded" with what is wrong on
 * the dashboard, operators see it in the tenants table and on the tenant's page; once the app runs
 * again the next check clears it everywhere.
 */
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AuthClient } from "../../auth-server/client.ts";
import { parseSlug, tenantNames } from "../../components/tenantNames.ts";
import { parseTenantSpec } from "../../components/tenantSpec.ts";
import { updateDesired } from "../../database/instances.ts";
import { silentLogger } from "../../logging/logger.ts";
import { runDokku } from "../../testing/dokkuClient.ts";
import { dokkuTarget } from "../../testing/dokkuTarget.ts";
import { hostSpec } from "../../testing/tenantStacks.ts";
import { checkTenantHealth } from "../../webhooks/tenantHealth/check.ts";
import { openBrowser, type Session } from "./browser.ts";
import { type PortalEnvironment, startPortalEnvironment } from "./environment.ts";
import { type Person, seedPerson } from "./people.ts";

const target = dokkuTarget();
let env: PortalEnvironment;
let customer: Person;
let operator: Person;
let apps: string[] = [];

async function dokku(command: string): Promise<void> {
  const result = await runDokku(target, command);
  expect(result.code, `${command}: ${result.stderr}`).toBe(0);
}

/** One run of the worker's scheduled health check. */
function check() {
  return checkTenantHealth({
    db: env.db,
    privateKey: () => readFileSync(target.keyPath, "utf8"),
    settings: { httpProbe: false, httpTimeoutMs: 2000 },
    log: silentLogger,
  });
}

async function signedIn(who: Person): Promise<Session> {
  const browser = await openBrowser();
  await browser.context.addCookies([
    {
      name: "mr_session",
      value: who.sessionToken,
      url: env.url,
      httpOnly: true,
      secure: true,
      sameSite: "Lax",
    },
  ]);
  return browser;
}

beforeAll(async () => {
  env = await startPortalEnvironment();
  const auth = new AuthClient({ authUrl: env.auth.authUrl });
  customer = await seedPerson(env, auth, "hana");
  operator = await seedPerson(env, auth, "oscar", { operator: true });
  // The customer's tenant on the Dokku test host as a provisioned one has it: both apps deployed.
  const spec = parseTenantSpec(hostSpec(target, customer.slug));
  const names = tenantNames(parseSlug(customer.slug));
  apps = [names.runtimeApp, names.homeserverApp];
  for (const app of apps) {
    await dokku(`apps:create ${app}`);
    await dokku(`git:from-image ${app} ghcr.io/mindroom-ai/mindroom@sha256:${"a".repeat(64)}`);
  }
  await updateDesired(env.db.pool, customer.instanceId, {
    host: spec.host.url,
    spec: spec as unknown as Record<string, unknown>,
  });
});

afterAll(async () => {
  for (const app of apps) await runDokku(target, `--force apps:destroy ${app}`);
  await env?.stop();
});

describe("a tenant whose app stops behind the platform's back", () => {
  it("is shown degraded to its customer and to operators at the next check, and running again once it recovers", async () => {
    expect((await check()).tenants.find((t) => t.slug === customer.slug)?.report.health).toBe("healthy");
    await dokku(`ps:scale ${apps[0]} web=0`);
    expect((await check()).changed).toContainEqual({ slug: customer.slug, health: "degraded" });

    const browser = await signedIn(customer);
    try {
      const page = browser.page;
      await page.goto(`${env.url}/dashboard`);
      const card = page.getByTestId("degraded");
      await expect.poll(() => card.count()).toBe(1);
      expect(await card.textContent()).toContain("the runtime app runs 0 processes, 1 expected");
      expect(await page.locator(".page-head .badge").textContent()).toBe("Degraded");
      await browser.screenshot("dashboard-degraded");

      await dokku(`ps:scale ${apps[0]} web=1`);
      expect((await check()).changed).toContainEqual({ slug: customer.slug, health: "healthy" });
      await page.reload();
      await expect.poll(() => page.locator(".page-head .badge").textContent()).toBe("Running");
      expect(await page.getByTestId("degraded").count()).toBe(0);
      expect(browser.errors).toEqual([]);
    } finally {
      await browser.close();
    }
  });

  it("is flagged in the operator's tenants table and on the tenant's page", async () => {
    await dokku(`ps:scale ${apps[0]} web=0`);
    expect((await check()).changed).toContainEqual({ slug: customer.slug, health: "degraded" });
    const browser = await signedIn(operator);
    try {
      const page = browser.page;
      await page.goto(`${env.url}/operator?q=${customer.slug}`);
      const row = page.locator("tr", { hasText: customer.slug });
      await expect.poll(() => row.locator(".badge", { hasText: "Degraded" }).count()).toBe(1);
      await page.goto(`${env.url}/operator/tenants/${customer.instanceId}`);
      const notice = page.getByTestId("degraded");
      await expect.poll(() => notice.count()).toBe(1);
      expect(await notice.textContent()).toContain("the runtime app runs 0 processes, 1 expected");
      expect(browser.errors).toEqual([]);
    } finally {
      await browser.close();
      await dokku(`ps:scale ${apps[0]} web=1`);
    }
  });
});
