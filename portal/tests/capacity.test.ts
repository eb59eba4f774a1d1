/**
 * Capacity in the browser, against the built portal and the real pipeline (local Stripe, the
 * webhook service and its worker running the Pulumi engine against the Dokku test host): a
 * customer who pays while every host is full sees "Waiting for capacity"; an operator adds a host
 * and the tenant provisions with no other action (the worker's capacity retry) and the page shows
 * it running; a plan change the host cannot hold is refused before anything changes, the customer
 * reads why, and the host is exactly as before (Dokku's own view; its command log has nothing new).
 */
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseSlug, tenantNames } from "../../components/tenantNames.ts";
import { parseTenantSpec } from "../../components/tenantSpec.ts";
import { tenantFootprint } from "../../components/tiers.ts";
import { listHosts, saveHost } from "../../database/hosts.ts";
import type { Instance } from "../../database/instances.ts";
import { dokkuTarget } from "../../testing/dokkuTarget.ts";
import { hostKeyOf } from "../../testing/engineStack.ts";
import { expectTenant, observeTenant } from "../../testing/tenantObserver.ts";
import { upgradeRefusedMessage } from "../../webhooks/reconcile/capacity.ts";
import { openBrowser, type Session } from "./browser.ts";
import { type PortalEnvironment, startPortalEnvironment } from "./environment.ts";
import { instanceOf, OPERATION_TIMEOUT, payForStarter, untilWorker } from "./journey.ts";

const target = dokkuTarget();
/** The same Dokku test host under another name: a second host as far as the platform can tell. */
const ADDED = target.shellUrl.replace("@127.0.0.1:", "@localhost:");
const email = `cap-${randomBytes(3).toString("hex")}@example.com`;
const password = "copper-meadow-signal-38";
let env: PortalEnvironment;
let customer: Session;

const instance = () => instanceOf(env, email);

/** Sets a host's memory as `mindroom-ops hosts add` records it (the same URL updates it). */
async function hostWithMemory(url: string, memoryMb: number) {
  await saveHost(env.db.pool, {
    url,
    address: "127.0.0.1",
    hostKey: hostKeyOf(target),
    memoryMb,
    cpus: 8,
    addedBy: "operator:ops@example.com",
  });
}

beforeAll(async () => {
  env = await startPortalEnvironment({ pipeline: { deletionGrace: "1h" } });
  // The pool the worker seeded (the test host) is full: it has no room for any tenant.
  const seeded = await untilWorker("the worker to seed its host", async () => {
    const pool = await listHosts(env.db.pool);
    return pool.length > 0 ? pool : undefined;
  });
  for (const host of seeded) await hostWithMemory(host.url, 64);
  customer = await openBrowser();
});

afterAll(async () => {
  await customer?.close();
  await env?.stop();
});

describe("capacity, as the customer sees it", () => {
  it("a full pool shows waiting for capacity; an added host makes the tenant run with no other action", async () => {
    const page = customer.page;
    await page.goto(`${env.url}/signup`);
    await page.getByLabel("Email").fill(email);
    await page.getByLabel("Password", { exact: true }).fill(password);
    await page.getByLabel("Repeat password").fill(password);
    await page.getByRole("button", { name: "Create account" }).click();
    await page.waitForURL(/\/billing/);
    await payForStarter(page, email, "Grace Hopper");

    const waiting = page.getByTestId("waiting-for-capacity");
    await expect.poll(() => waiting.count(), { timeout: OPERATION_TIMEOUT }).toBe(1);
    expect(await page.locator(".page-head .badge").textContent()).toBe("Waiting for capacity");
    expect(await waiting.textContent()).toContain("starts by itself");
    const row = await instance();
    expect(row).toMatchObject({ actualState: "waiting_for_capacity", host: null });
    await customer.screenshot("dashboard-waiting-for-capacity");

    // An operator adds a host; nobody touches the tenant. The page refreshes itself.
    await hostWithMemory(ADDED, 32768);
    const open = page.getByRole("link", { name: "Open MindRoom ↗" });
    await expect.poll(() => open.count(), { timeout: OPERATION_TIMEOUT }).toBe(1);
    expect(await page.locator(".page-head .badge").textContent()).toBe("Running");
    const running = await untilWorker("the tenant to run", async () => {
      const r = await instance();
      return r?.actualState === "running" && r.appliedSpecHash === r.specHash ? r : undefined;
    });
    expect(running).toMatchObject({ host: ADDED, blockedReason: null });
    expectTenant(
      await observeTenant(target, tenantNames(parseSlug(running.slug))),
      parseTenantSpec(running.spec),
    );
  });

  it("refuses a plan change the host cannot hold, says so, and changes nothing on the host", async () => {
    const before = (await instance()) as Instance;
    const spec = parseTenantSpec(before.spec);
    // The host holds exactly what the tenant runs now.
    await hostWithMemory(
      ADDED,
      tenantFootprint({ tier: "starter", homeserver: spec.homeserver, backups: spec.backups.enabled })
        .memoryMb,
    );
    const names = tenantNames(parseSlug(before.slug));
    const observed = await observeTenant(target, names);
    const logged = (await target.commandLog?.())?.length ?? 0;

    const page = customer.page;
    await page.goto(`${env.url}/billing`);
    await page.getByRole("button", { name: "Switch to the Professional plan" }).click();
    await expect.poll(() => page.getByText("Changing your plan to professional").count()).toBe(1);
    await page.goto(`${env.url}/dashboard`);
    const blocked = page.getByTestId("blocked");
    await expect
      .poll(
        async () => {
          if ((await blocked.count()) === 0) await page.reload();
          return blocked.count();
        },
        { timeout: OPERATION_TIMEOUT, interval: 2000 },
      )
      .toBe(1);
    expect(await blocked.textContent()).toBe(upgradeRefusedMessage("starter", "professional"));
    await customer.screenshot("dashboard-upgrade-refused");

    const after = (await instance()) as Instance;
    expect(after).toMatchObject({ actualState: "running", appliedSpecHash: before.appliedSpecHash });
    expect(parseTenantSpec(after.spec).tier).toBe("starter");
    // The worker sent the host nothing since (read before looking at the host ourselves).
    const since = (await target.commandLog?.())?.slice(logged).map((c) => c.argv.join(" "));
    if (since) expect(since).toEqual([]);
    expect(await observeTenant(target, names)).toEqual(observed);
    // Only the portal's pages count: the local Stripe's hosted Checkout is not ours.
    expect(customer.errors.filter((e) => e.includes(env.url))).toEqual([]);
  });
});
