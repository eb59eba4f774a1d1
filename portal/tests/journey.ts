/**
 * A customer's way through the real pipeline, shared by the browser tests that run it: paying for
 * the Starter plan in the local Checkout, finding the instance row the worker keeps for them, and
 * waiting (as long as an engine operation may take) for something the worker does.
 */
import type { Page } from "playwright-core";
import { findInstanceByCustomer, type Instance } from "../../database/instances.ts";
import type { PortalEnvironment } from "./environment.ts";

export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs: number,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((done) => setTimeout(done, 500));
  }
}

/** The customer's instance row, as the worker recorded it. */
export async function instanceOf(env: PortalEnvironment, email: string): Promise<Instance | undefined> {
  const { rows } = await env.db.pool.query<{ id: string }>(
    "select id from public.customers where email = $1",
    [email],
  );
  const id = rows[0]?.id;
  return id ? ((await findInstanceByCustomer(env.db.pool, id)) ?? undefined) : undefined;
}

/** From the plans page: the Starter plan through the local Checkout, back on the dashboard. */
export async function payForStarter(page: Page, email: string, name: string): Promise<void> {
  await page.getByRole("button", { name: "Choose the Starter plan" }).click();
  await page.waitForURL(/\/checkout\/cs_/);
  // The local Checkout asks for the email when the session carries a customer but no customer_email.
  const emailField = page.getByLabel("Email");
  if (await emailField.count()) await emailField.fill(email);
  await page.getByLabel("Name on card").fill(name);
  await page.getByLabel("Card number").fill("4242 4242 4242 4242");
  await page.getByLabel("Expiry (MM / YY)").fill("12 / 34");
  await page.getByLabel("CVC").fill("123");
  await page.getByRole("button", { name: "Subscribe" }).click();
  await page.waitForURL(/\/dashboard\?checkout=success/);
}
