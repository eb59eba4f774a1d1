/**
 * A forgotten password, in Chromium against the built portal and the local auth server: "Forgot
 * your password?" on the sign-in page asks for a link; the emailed link signs in (only after
 * Continue) and opens the account page at its password form; the new password works and the old
 * one no longer does. Also: an unknown address gets the same answer and no mail, and a new password
 * the form refuses changes nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AuthClient } from "../../auth-server/client.ts";
import { openBrowser, type Session } from "./browser.ts";
import { type PortalEnvironment, startPortalEnvironment } from "./environment.ts";
import { PASSWORD, type Person, seedPerson } from "./people.ts";

const NEW_PASSWORD = "a brand new passphrase";

let env: PortalEnvironment;
let auth: AuthClient;
let person: Person;
let browser: Session;

beforeAll(async () => {
  env = await startPortalEnvironment();
  auth = new AuthClient({ authUrl: env.auth.authUrl });
  person = await seedPerson(env, auth, "forgetful");
  browser = await openBrowser();
});

afterAll(async () => {
  await browser?.close();
  await env?.stop();
});

async function askForReset(email: string): Promise<void> {
  const page = browser.page;
  await page.goto(`${env.url}/login`);
  // Generous: in the full suite the sign-in page can take longer than the default 30 s to render.
  await page.getByRole("link", { name: "Forgot your password?" }).click({ timeout: 180_000 });
  await page.waitForURL((u) => u.pathname === "/password-reset");
  await page.getByLabel("Email", { exact: true }).fill(email);
  await page.getByRole("button", { name: "Email me a reset link" }).click();
  await expect
    .poll(() =>
      page
        .getByRole("status")
        .filter({ hasText: `If ${email} has an account` })
        .count(),
    )
    .toBe(1);
}

describe("a forgotten password", () => {
  it("an unknown address gets the same answer, and no mail", async () => {
    const sent = env.auth.mail.messages().length;
    await askForReset("nobody-here@example.com");
    expect(env.auth.mail.messages().length).toBe(sent);
  });

  it("is replaced through an emailed link that lands on the password form", async () => {
    const page = browser.page;
    const sent = env.auth.mail.messages().length;
    await askForReset(person.email);
    await expect.poll(() => env.auth.mail.messages().length).toBe(sent + 1);
    const mail = await env.auth.mail.latestTo(person.email);
    const link = new URL(/https?:\/\/\S+\/auth\/confirm\?\S+/.exec(mail.text)?.[0] ?? "http://missing");
    expect(link.searchParams.get("next")).toBe("/account?password=new");

    await page.goto(link.toString());
    expect((await browser.context.cookies(env.url)).map((c) => c.name)).not.toContain("mr_session");
    await page.getByRole("button", { name: "Continue" }).click();
    await page.waitForURL((u) => u.pathname === "/account" && u.searchParams.get("password") === "new");
    await expect.poll(() => page.getByRole("heading", { name: "Choose a new password" }).count()).toBe(1);

    // A mistyped repeat changes nothing.
    await page.getByLabel("New password", { exact: true }).fill(NEW_PASSWORD);
    await page.getByLabel("Repeat the new password").fill(`${NEW_PASSWORD}!`);
    await page.getByRole("button", { name: "Set new password" }).click();
    await expect
      .poll(() => page.getByRole("alert").filter({ hasText: "The two passwords do not match." }).count())
      .toBe(1);
    await auth.signInWithPassword(person.email, PASSWORD);

    await page.getByLabel("New password", { exact: true }).fill(NEW_PASSWORD);
    await page.getByLabel("Repeat the new password").fill(NEW_PASSWORD);
    await page.getByRole("button", { name: "Set new password" }).click();
    await expect
      .poll(() => page.getByRole("status").filter({ hasText: "Your password is changed." }).count())
      .toBe(1);
    await expect(auth.signInWithPassword(person.email, PASSWORD)).rejects.toThrow(/sign-in failed/);
    const signed = await auth.signInWithPassword(person.email, NEW_PASSWORD);
    expect(signed.session.identity.id).toBe(person.userId);
    expect(browser.errors).toEqual([]);
  });
});
