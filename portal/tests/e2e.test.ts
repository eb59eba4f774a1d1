/**
 * End-to-end in real headless Chromium against the built portal, the local auth server (Kratos),
 * the local Stripe API and a real Postgres. The reconcile worker's database writes are played by
 * pipelineStandIn.ts (same repositories, subscription read back from Stripe), because the webhook
 * service and worker are not part of this suite. Fails on any console or page error; saves
 * screenshots of the main pages to docs/screenshots/.
 */
import { randomBytes } from "node:crypto";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AuthClient } from "../../auth-server/client.ts";
import { stripeClient } from "../../stripe-local/client.ts";
import { openBrowser, type Session } from "./browser.ts";
import { type PortalEnvironment, startPortalEnvironment } from "./environment.ts";
import {
  applyTier,
  customerIdOfEmail,
  finishProvisioning,
  projectSubscription,
  scheduleDeletion,
  startProvisioning,
} from "./pipelineStandIn.ts";

let env: PortalEnvironment;
let customer: Session;
const tag = randomBytes(3).toString("hex");
const email = `ada-${tag}@example.com`;
const password = "violet-harbor-lantern-91";
const slug = `ada-${tag}`;
let instanceId = "";

async function settled(page: Page) {
  await page.waitForLoadState("networkidle");
}

beforeAll(async () => {
  env = await startPortalEnvironment();
  customer = await openBrowser();
});

afterAll(async () => {
  await customer?.close();
  await env?.stop();
});

describe("a customer", () => {
  it("signs up and lands on plans", async () => {
    const page = customer.page;
    await page.goto(`${env.url}/signup`);
    await settled(page);
    // Validation messages from the server's schema, next to the fields.
    await page.getByRole("button", { name: "Create account" }).click();
    await expect.poll(() => page.getByText("Enter your email address.").count()).toBe(1);
    await page.getByLabel("Email").fill(email);
    await page.getByLabel("Password", { exact: true }).fill(password);
    await page.getByLabel("Repeat password").fill(`${password}x`);
    await page.getByRole("button", { name: "Create account" }).click();
    await expect.poll(() => page.getByText("The two passwords do not match.").count()).toBe(1);
    await customer.screenshot("signup-validation");
    await page.getByLabel("Repeat password").fill(password);
    await page.getByRole("button", { name: "Create account" }).click();
    await page.waitForURL(/\/billing/);
    await expect.poll(() => page.getByRole("heading", { name: "Plans" }).count()).toBe(1);
    const cookies = await customer.context.cookies();
    const session = cookies.find((c) => c.name === "mr_session");
    expect(session).toMatchObject({ httpOnly: true, secure: true, sameSite: "Lax" });
    // Nothing readable by scripts.
    expect(await page.evaluate(() => document.cookie)).toBe("");
    await customer.screenshot("billing-plans");
  });

  it("chooses a plan in Checkout and watches the instance go from provisioning to running", async () => {
    const page = customer.page;
    await page.getByRole("button", { name: "Choose the Starter plan" }).click();
    await page.waitForURL(/\/checkout\/cs_/);
    // The local Checkout asks for the email when the session carries a customer but no customer_email.
    const emailField = page.getByLabel("Email");
    if (await emailField.count()) await emailField.fill(email);
    await page.getByLabel("Name on card").fill("Ada Lovelace");
    await page.getByLabel("Card number").fill("4242 4242 4242 4242");
    await page.getByLabel("Expiry (MM / YY)").fill("12 / 34");
    await page.getByLabel("CVC").fill("123");
    await page.getByRole("button", { name: "Subscribe" }).click();
    await page.waitForURL(/\/dashboard\?checkout=success/);
    await settled(page);

    const c = await customerIdOfEmail(env.db.pool, email);
    expect(c.stripe).toMatch(/^cus_/);
    const stripe = stripeClient({ secretKey: env.stripe.secretKey, apiBase: env.stripe.url });
    const sub = await projectSubscription(env.db.pool, stripe, c.id, c.stripe ?? "");
    expect(sub.tier).toBe("starter");
    const started = await startProvisioning(env.db.pool, c.id, slug, "starter");
    instanceId = started.instanceId;

    await expect.poll(() => page.getByText("Setting up your instance").count(), { timeout: 20_000 }).toBe(1);
    await expect.poll(() => page.getByText("Starting the Matrix homeserver (40%)").count()).toBe(1);
    await customer.screenshot("dashboard-provisioning");

    await finishProvisioning(env.db.pool, started.instanceId, started.operationId, slug, "starter");
    const open = page.getByRole("link", { name: "Open MindRoom ↗" });
    await expect.poll(() => open.count(), { timeout: 20_000 }).toBe(1);
    expect(await open.getAttribute("href")).toBe(`https://${slug}.mindroom.test`);
    expect(await page.getByRole("link", { name: "Matrix homeserver ↗" }).getAttribute("href")).toBe(
      `https://${slug}.matrix.mindroom.test`,
    );
    expect(await page.getByTestId("limits").textContent()).toContain("1,000");
    await customer.screenshot("dashboard-running");
  });

  it("changes plan and sees the new limits once the worker has applied them", async () => {
    const page = customer.page;
    await page.goto(`${env.url}/billing`);
    await settled(page);
    await page.getByRole("button", { name: "Switch to the Professional plan" }).click();
    await expect.poll(() => page.getByText("Changing your plan to professional").count()).toBe(1);
    const c = await customerIdOfEmail(env.db.pool, email);
    const stripe = stripeClient({ secretKey: env.stripe.secretKey, apiBase: env.stripe.url });
    const sub = await projectSubscription(env.db.pool, stripe, c.id, c.stripe ?? "");
    expect(sub.tier).toBe("professional");
    await applyTier(env.db.pool, instanceId, slug, "professional");
    await expect
      .poll(() => page.getByRole("button", { name: "Professional is your current plan" }).count(), {
        timeout: 20_000,
      })
      .toBe(1);
    await page.goto(`${env.url}/dashboard`);
    await settled(page);
    expect(await page.getByTestId("limits").textContent()).toContain("10,000");
    expect(await page.getByRole("heading", { name: "Professional plan" }).count()).toBe(1);
  });

  it("cancels and sees when the subscription ends, then the deletion date", async () => {
    const page = customer.page;
    await page.goto(`${env.url}/billing`);
    await settled(page);
    await page.getByRole("button", { name: "Cancel subscription" }).click();
    await expect.poll(() => page.getByText("Your subscription will end at the close").count()).toBe(1);
    const c = await customerIdOfEmail(env.db.pool, email);
    const stripe = stripeClient({ secretKey: env.stripe.secretKey, apiBase: env.stripe.url });
    const sub = await projectSubscription(env.db.pool, stripe, c.id, c.stripe ?? "");
    expect(sub.cancelAtPeriodEnd).toBe(true);
    await expect
      .poll(() => page.getByRole("button", { name: "Reactivate subscription" }).count(), { timeout: 20_000 })
      .toBe(1);
    expect(await page.getByTestId("subscription").textContent()).toContain("Ends on");
    await customer.screenshot("billing-cancelled");

    // The period ends: Stripe ends the subscription, the worker schedules deletion after the grace.
    await stripe.subscriptions.cancel(sub.id);
    await projectSubscription(env.db.pool, stripe, c.id, c.stripe ?? "");
    const due = new Date(Date.UTC(2026, 11, 24));
    await scheduleDeletion(env.db.pool, instanceId, due);
    await page.goto(`${env.url}/dashboard`);
    await settled(page);
    await expect.poll(() => page.getByText("Scheduled for deletion on 24 Dec 2026").count()).toBe(1);
    await customer.screenshot("dashboard-scheduled-deletion");
  });

  it("keeps the console free of errors", () => {
    // Only the portal's pages count: the local Stripe's hosted Checkout is not ours.
    expect(customer.errors.filter((e) => e.includes(env.url))).toEqual([]);
  });
});

describe("an operator", () => {
  let operator: Session;
  const operatorEmail = `ops-${tag}@example.com`;

  beforeAll(async () => {
    const auth = new AuthClient({ authUrl: env.auth.authUrl });
    const signed = await auth.signUp(operatorEmail, password);
    await env.db.pool.query("insert into public.operators (user_id) values ($1)", [
      signed.session.identity.id,
    ]);
    operator = await openBrowser();
  });

  afterAll(async () => {
    await operator?.close();
  });

  it("finds the tenant, sees its outputs and operations, and triggers an audited reconcile", async () => {
    const page = operator.page;
    await page.goto(`${env.url}/operator`);
    await page.waitForURL(/\/login/);
    await page.getByLabel("Email", { exact: true }).fill(operatorEmail);
    await page.getByLabel("Password", { exact: true }).fill(password);
    await page.getByRole("button", { name: "Sign in", exact: true }).click();
    await page.waitForURL(/\/operator/);
    await settled(page);
    await operator.screenshot("operator-tenants");

    await page.getByLabel("Search").fill(slug);
    await page.getByRole("button", { name: "Filter" }).click();
    await page.waitForURL(/q=/);
    await settled(page);
    await page.getByRole("link", { name: slug }).click();
    await page.waitForURL(/\/operator\/tenants\//);
    await settled(page);
    expect(await page.getByTestId("recorded-outputs").textContent()).toContain(
      `https://${slug}.mindroom.test`,
    );
    expect(await page.getByRole("heading", { name: "Operations" }).count()).toBe(1);
    expect(await page.getByText("customer.subscription.updated").count()).toBeGreaterThan(0);

    // The reason is required, with the schema's message.
    await page.getByRole("button", { name: "Reconcile now" }).click();
    await expect.poll(() => page.getByText("Say why in a few words").count()).toBe(1);
    await page
      .getByLabel("Reason (recorded in the audit log)")
      .fill("customer asked us to re-check their homeserver");
    await page.getByRole("button", { name: "Reconcile now" }).click();
    await expect.poll(() => page.getByText("Reconcile queued.").count()).toBe(1);
    await page.reload();
    await settled(page);
    await expect.poll(() => page.getByText("operator.reconcile").count()).toBe(1);
    await operator.screenshot("operator-tenant");

    const audit = await env.db.pool.query(
      "select actor, reason from public.audit_log where action = 'operator.reconcile' and instance_id = $1",
      [instanceId],
    );
    expect(audit.rows).toEqual([
      { actor: `operator:${operatorEmail}`, reason: "customer asked us to re-check their homeserver" },
    ]);
    const jobs = await env.db.pool.query(
      "select data from pgboss.job where name = 'reconcile' and data->>'trigger' = 'operator'",
    );
    expect(jobs.rows.map((r) => r.data.requestedBy)).toEqual([`operator:${operatorEmail}`]);

    await page.getByRole("link", { name: "Platform" }).click();
    await page.waitForURL(/\/operator\/platform/);
    await settled(page);
    expect(await page.getByText("Failed operations (24 h)").count()).toBe(1);
    await operator.screenshot("operator-platform");
    expect(operator.errors.filter((e) => e.includes(env.url))).toEqual([]);
  });
});
