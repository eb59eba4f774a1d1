/**
 * `./platform start` as a newcomer runs it, on a fresh data folder: every local part comes up and
 * the banner says where each one is; the mail inbox it prints is Mailpit's, answering with the
 * messages sent to the SMTP address beside it; Ctrl-C (SIGINT) stops it all. Ports it would
 * otherwise take by convention (portal 3000, webhooks 8790) are given free ones, so it runs beside
 * anything else on the machine.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, test } from "vitest";
import { LOCAL_HOST_POINTER } from "./automation/settings.ts";
import { createMailer } from "./mail/transport.ts";
import { freePort } from "./net/loopbackPort.ts";
import { Inbox } from "./testing/mailpit.ts";

const dataDir = mkdtempSync(join(tmpdir(), "mindroom-platform-start-"));
let platform: ChildProcess | undefined;

/** What would point the platform at something other than its embedded defaults. */
const CONFIGURED_ELSEWHERE = [
  "DATABASE_URL",
  "STRIPE_API_BASE",
  "STRIPE_SECRET_KEY",
  "STRIPE_WEBHOOK_SECRET",
  "SUPABASE_URL",
  "SUPABASE_ANON_KEY",
  "SUPABASE_SERVICE_ROLE_KEY",
  "SMTP_URL",
  "MAIL_FROM",
  "PORTAL_PUBLIC_URL",
  "AWS_ENDPOINT_URL_S3",
  "PULUMI_BACKEND_URL",
  "DOKKU_HOSTS",
  "DOKKU_SSH_KEY",
  "MINDROOM_METRICS_PORT",
  "PORTAL_METRICS_PORT",
];

afterAll(async () => {
  if (platform && platform.exitCode === null && platform.signalCode === null) {
    platform.kill("SIGINT");
    await once(platform, "exit");
  }
  // The local Dokku host lives outside the data folder when that sits in a world-writable /tmp.
  const pointer = join(dataDir, LOCAL_HOST_POINTER);
  if (existsSync(pointer)) {
    const hostDir = readFileSync(pointer, "utf8").trim();
    if (!hostDir.startsWith(dataDir)) rmSync(join(hostDir, ".."), { recursive: true, force: true });
  }
  rmSync(dataDir, { recursive: true, force: true });
});

/** Resolves with everything printed so far once `mark` appears; rejects if the process ends first. */
function printed(child: ChildProcess, mark: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = "";
    let err = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes(mark)) resolve(out);
    });
    child.stderr?.on("data", (chunk: Buffer) => {
      err += chunk.toString();
    });
    child.once("exit", (code, signal) =>
      reject(
        new Error(`./platform start ended (${code ?? signal}) before printing "${mark}":\n${out}\n${err}`),
      ),
    );
  });
}

test("./platform start prints where each part runs, the mail inbox too, and stops on Ctrl-C", {
  timeout: 600_000,
}, async () => {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    MINDROOM_DATA_DIR: dataDir,
    PORT: String(await freePort()),
    MINDROOM_WEBHOOKS_PORT: String(await freePort()),
  };
  for (const name of CONFIGURED_ELSEWHERE) delete env[name];
  platform = spawn(process.execPath, ["platform.ts", "start"], {
    cwd: import.meta.dirname,
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const banner = await printed(platform, "Ctrl-C stops the platform");
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
  const received = await new Inbox(webUrl).waitFor("newcomer@example.test", /^hello from the test$/);
  expect(received.messageId).toBe("platform-start@mindroom.test");

  const exited = once(platform, "exit");
  let rest = "";
  platform.stdout?.on("data", (chunk: Buffer) => {
    rest += chunk.toString();
  });
  platform.kill("SIGINT");
  const [code] = await exited;
  expect(code).toBe(0);
  expect(rest).toMatch(/stopped in \d+\.\d s\n/);
  await expect(fetch(`${webUrl}/readyz`)).rejects.toThrow();
});
