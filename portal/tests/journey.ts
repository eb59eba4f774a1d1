/**
 * A customer's way through the real pipeline, shared by the browser tests that run it: signing up,
 * paying for the Starter plan in the local Checkout, finding the instance row the worker keeps for
 * them, and waiting (as long as an engine operation may take) for something the worker does.
 */
import type { Page } from "playwright-core";
import type { Instance } from "../../database/instances.ts";
import { instanceOfEmail } from "../../testing/instanceRows.ts";
import { waitFor } from "../../testing/waitFor.ts";
import type { PortalEnvironment } from "./environment.ts";

/** One engine operation on a loaded 2-core machine takes 10–60 s; a browser test waits this long for one. */
export const OPERATION_TIMEOUT = 300_000;

/** Waits for something the worker does, as long as an engine operation may take. */
export function untilWorker<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
  return waitFor(what, probe, { timeoutMs: OPERATION_TIMEOUT });
}

/** The customer's instance row, as the worker recorded it. */
export function instanceOf(env: PortalEnvironment, email: string): Promise<Instance | undefined> {
  return instanceOfEmail(env.db.pool, email);
}

export async function settled(page: Page): Promise<void> {
  await page.waitForLoadState("networkidle");
}

/** Signs up on /signup and lands on the plans. */
export async function signUp(page: Page, portalUrl: string, email: string, password: string): Promise<void> {
  await page.goto(`${portalUrl}/signup`);
  await settled(page);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password", { exact: true }).fill(password);
  await page.getByLabel("Repeat password").fill(password);
  await page.getByRole("button", { name: "Create account" }).click();
  await page.waitForURL(/\/billing/);
}

/** On the local Stripe Checkout page: fills in a test card, up to pressing "Subscribe". */
export async function fillCheckout(page: Page, email: string, name = "Ada Lovelace"): Promise<void> {
  await page.waitForURL(/\/checkout\/cs_/);
  // The local Checkout asks for the email when the session carries a customer but no customer_email.
  const emailField = page.getByLabel("Email");
  if (await emailField.count()) await emailField.fill(email);
  await page.getByLabel("Name on card").fill(name);
  await page.getByLabel("Card number").fill("4242 4242 4242 4242");
  await page.getByLabel("Expiry (MM / YY)").fill("12 / 34");
  await page.getByLabel("CVC").fill("123");
}

/** On the local Stripe Checkout page: pays with a test card and returns to the dashboard. */
export async function payInCheckout(page: Page, email: string, name = "Ada Lovelace"): Promise<void> {
  await fillCheckout(page, email, name);
  await page.getByRole("button", { name: "Subscribe" }).click();
  await page.waitForURL(/\/dashboard\?checkout=success/);
}

/** From the plans page: the Starter plan through the local Checkout, back on the dashboard. */
export async function payForStarter(page: Page, email: string, name: string): Promise<void> {
  await page.getByRole("button", { name: "Choose the Starter plan" }).click();
  await payInCheckout(page, email, name);
}

/**
 * The instance once the worker's last operation on it finished with `state` and nothing is queued
 * (waiting as long as one engine operation may take, unless told: the worker may have others first).
 */
export function instanceSettledAs(
  env: PortalEnvironment,
  email: string,
  state: Instance["actualState"],
  timeoutMs = OPERATION_TIMEOUT,
): Promise<Instance> {
  return waitFor(
    `the instance to be ${state}`,
    async () => {
      const row = await instanceOf(env, email);
      if (!row || row.actualState !== state || row.appliedSpecHash !== row.specHash) return undefined;
      const { rows } = await env.db.pool.query(
        "select 1 from pgboss.job where name = 'reconcile' and state in ('created', 'retry', 'active') and start_after <= now()",
      );
      return rows.length === 0 ? row : undefined;
    },
    { timeoutMs },
  );
}
