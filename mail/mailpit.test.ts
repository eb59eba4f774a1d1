/**
 * The local Mailpit as `./platform start` and the webhook service use it: started for a data
 * folder (its messages kept there across restarts), joined by a second process while the first
 * runs, stopped only by its owner, and a clear error when it is not built.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, test } from "vitest";
import { Inbox } from "../testing/mailpit.ts";
import { startMailpit } from "./mailpit.ts";
import { createMailer } from "./transport.ts";

const dir = mkdtempSync(join(tmpdir(), "mindroom-mailpit-test-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function sendOne(smtpUrl: string, to: string): Promise<void> {
  const mailer = createMailer({ smtpUrl, from: "no-reply@mindroom.test" });
  try {
    await mailer.send({ to, subject: "hello", text: "hi", html: "<p>hi</p>", messageId: `<${to}>` });
  } finally {
    mailer.close();
  }
}

test("a data folder's Mailpit: joined while it runs, its messages kept across a restart", async () => {
  const first = await startMailpit({ dir, smtpPort: 0, httpPort: 0 });
  expect(first.owned).toBe(true);
  expect(first.webUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  await sendOne(first.smtpUrl, "kept@example.test");

  const joined = await startMailpit({ dir });
  expect(joined).toMatchObject({ owned: false, smtpUrl: first.smtpUrl, webUrl: first.webUrl });
  await joined.stop(); // not the owner: nothing stops
  expect((await fetch(`${first.webUrl}/readyz`)).ok).toBe(true);

  // The web inbox is built in (the UI assets the toolchain generates are embedded).
  const page = await (await fetch(`${first.webUrl}/`)).text();
  expect(page).toContain("dist/app.js");
  const script = await fetch(`${first.webUrl}/dist/app.js`);
  expect(script.status).toBe(200);
  expect((await script.arrayBuffer()).byteLength).toBeGreaterThan(100_000);

  await first.stop();
  await expect(fetch(`${first.webUrl}/readyz`)).rejects.toThrow();

  const again = await startMailpit({ dir, smtpPort: 0, httpPort: 0 });
  try {
    expect(again.owned).toBe(true);
    const kept = await new Inbox(again.webUrl).messagesTo("kept@example.test");
    expect(kept.map((m) => m.subject)).toEqual(["hello"]);
  } finally {
    await again.stop();
  }
});

test("not built: the error says how to build it or what to use instead", async () => {
  await expect(
    startMailpit({ dir: join(dir, "other"), binary: join(dir, "no-such-mailpit") }),
  ).rejects.toThrow(/Mailpit is not built .*run toolchain\/ensure\.sh, or set SMTP_URL/);
});
