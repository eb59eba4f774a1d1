/**
 * `./platform start` as a newcomer runs it, on a fresh data folder: every local part comes up and
 * the banner says where each one is; the mail inbox it prints is Mailpit's, answering with the
 * messages sent to the SMTP address beside it and with the auth server's sign-in mail; Ctrl-C (SIGINT) stops it all. Ports it would
 * otherwise take by convention (portal 3000, webhooks 8790) are given free ones, so it runs beside
 * anything else on the machine.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, expect, test } from "vitest";
import { AuthClient } from "./auth-server/client.ts";
import { createMailer } from "./mail/transport.ts";
import { freePort } from "./net/loopbackPort.ts";
import { Inbox } from "./testing/mailpit.ts";
import { localHostDir, type PlatformProcess, startPlatform } from "./testing/platformProcess.ts";

const dataDir = mkdtempSync(join(tmpdir(), "mindroom-platform-start-"));
let platform: PlatformProcess | undefined;

afterAll(async () => {
  if (platform && platform.child.exitCode === null && platform.child.signalCode === null) {
    platform.child.kill("SIGINT");
    await platform.exited;
  }
  // The local Dokku host lives outside the data folder when that sits in a world-writable /tmp.
  const hostDir = localHostDir(dataDir);
  if (hostDir && !hostDir.startsWith(dataDir)) rmSync(dirname(hostDir), { recursive: true, force: true });
  rmSync(dataDir, { recursive: true, force: true });
});

test("./platform start prints where each part runs, the mail inbox too, and stops on Ctrl-C", {
  timeout: 600_000,
}, async () => {
  platform = await startPlatform({
    dataDir,
    env: { PORT: String(await freePort()), MINDROOM_WEBHOOKS_PORT: String(await freePort()) },
  });
  const banner = platform.output();
  expect(banner).toContain(`MindRoom Cloud is running on embedded defaults (data in ${dataDir})`);

  const mail = /Mail inbox\s+(http:\/\/127\.0\.0\.1:\d+) \(Mailpit; SMTP (smtp:\/\/127\.0\.0\.1:\d+)\)/.exec(
    banner,
  );
  expect(mail, banner).not.toBeNull();
  const [, webUrl = "", smtpUrl = ""] = mail ?? [];
  // The printed address is the web inbox, and it holds what is sent to the printed SMTP address.
  expect(await (await fetch(`${webUrl}/`)).text()).toContain("dist/app.js");
  const mailer = createMailer({ smtpUrl, from: "no-reply@mindroom.test" });
  try {
    await mailer.send({
      to: "newcomer@example.test",
      subject: "hello from the test",
      text: "hi",
      html: "<p>hi</p>",
      messageId: "<platform-start@mindroom.test>",
    });
  } finally {
    mailer.close();
  }
  const inbox = new Inbox(webUrl);
  const received = await inbox.waitFor("newcomer@example.test", /^hello from the test$/);
  expect(received.messageId).toBe("platform-start@mindroom.test");

  // The auth server's own mail (sign-in codes, password resets) lands in the same inbox.
  const authUrl = /Auth\s+(http:\/\/127\.0\.0\.1:\d+\/auth\/v1)/.exec(banner)?.[1];
  expect(authUrl, banner).toBeDefined();
  const auth = new AuthClient({ authUrl: authUrl ?? "" });
  await auth.signUp("newcomer@example.test", "a long enough passphrase 7");
  await auth.sendSignInCode("newcomer@example.test");
  const code = await inbox.waitFor("newcomer@example.test", /sign-in code/);
  expect(code.from).toBe("no-reply@mindroom.local");

  platform.child.kill("SIGINT");
  expect((await platform.exited).code).toBe(0);
  expect(platform.output().slice(banner.length)).toMatch(/stopped in \d+\.\d s\n/);
  await expect(fetch(`${webUrl}/readyz`)).rejects.toThrow();
});
