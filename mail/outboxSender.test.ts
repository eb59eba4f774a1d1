/**
 * The outbox and its sender against a real Postgres and the run's Mailpit
 * (SMTP in, API out): a decided email arrives once with its stable
 * Message-ID; deciding it again changes nothing; a sender that dies after
 * the server accepted but before the commit sends it again under the same
 * Message-ID (a real SIGKILL of a sender process); an unreachable server is retried with backoff and unrenderable
 * facts are given up; two senders draining at once send each email once.
 */
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { once } from "node:events";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { listEmails, queueEmail } from "../database/emailOutbox.ts";
import { type TestDatabase, testDatabase } from "../testing/database.ts";
import { type Inbox, testMailpit } from "../testing/mailpit.ts";
import { type MailFacts, renderMail } from "./messages.ts";
import { messageIdFor, type OutboxSenderDeps, retryDelayMs, sendDueEmails } from "./outboxSender.ts";
import { createMailer, type Mailer } from "./transport.ts";

const ROOT = resolve(import.meta.dirname, "..");
const KILLABLE_SENDER = `
import pg from "pg";
import { sendDueEmails } from ${JSON.stringify(join(ROOT, "mail", "outboxSender.ts"))};
import { createMailer } from ${JSON.stringify(join(ROOT, "mail", "transport.ts"))};
const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL });
const smtp = createMailer({ smtpUrl: process.env.SMTP_URL, from: "no-reply@mindroom.test" });
const mailer = {
  async send(mail) {
    const sent = await smtp.send(mail);
    process.stdout.write("accepted\\n");
    await new Promise(() => undefined);
    return sent;
  },
  close() {},
};
const log = { info() {}, warn() {}, error() {} };
await sendDueEmails({ pool, mailer, links: { portalUrl: "http://portal.example.test" }, messageDomain: "mindroom.test", log }, 1);
`;

let db: TestDatabase;
let smtpUrl: string;
let inbox: Inbox;
let mailer: Mailer;
const lines: { level: string; msg: string; fields?: Record<string, unknown> }[] = [];
const log = {
  info: (msg: string, fields?: Record<string, unknown>) => lines.push({ level: "info", msg, fields }),
  warn: (msg: string, fields?: Record<string, unknown>) => lines.push({ level: "warn", msg, fields }),
  error: (msg: string, fields?: Record<string, unknown>) => lines.push({ level: "error", msg, fields }),
};
const links = { portalUrl: "http://portal.example.test" };

beforeAll(async () => {
  db = await testDatabase();
  const mailpit = await testMailpit();
  inbox = mailpit.inbox;
  smtpUrl = mailpit.smtpUrl;
  mailer = createMailer({ smtpUrl, from: "MindRoom <no-reply@mindroom.test>" });
});
afterAll(async () => {
  mailer?.close();
  await db?.close();
});

function deps(overrides: Partial<OutboxSenderDeps> = {}): OutboxSenderDeps {
  return { pool: db.pool, mailer, links, messageDomain: "mindroom.test", log, ...overrides };
}

function facts(name = "Grace"): MailFacts<"deleted"> {
  return { name, slug: "grace-1", tier: "starter", at: "2026-12-14T12:00:05.000Z" };
}

async function decide(recipient: string, eventKey = "op-1", f: Record<string, unknown> = facts()) {
  return queueEmail(db.pool, {
    customerId: randomUUID(),
    kind: "deleted",
    eventKey,
    recipient,
    facts: f,
  });
}

/** Lets any other test's pending rows go first, so each test sees its own effects. */
async function drain(overrides: Partial<OutboxSenderDeps> = {}) {
  return sendDueEmails(deps(overrides), 1000);
}

describe("sending", () => {
  test("a decided email arrives once, as rendered, with the row's Message-ID", async () => {
    const to = `${randomUUID()}@example.test`;
    const { queued, id } = await decide(to);
    expect(queued).toBe(true);
    await drain();
    await drain();
    const received = await inbox.messagesTo(to);
    expect(received).toHaveLength(1);
    const [mail] = received;
    const rendered = renderMail("deleted", facts(), links);
    expect(mail?.subject).toBe(rendered.subject);
    expect(mail?.text.replaceAll("\r\n", "\n").trim()).toBe(rendered.text.trim());
    expect(mail?.html).toContain("Your MindRoom (grace-1) and its data were deleted");
    expect(mail?.from).toBe("no-reply@mindroom.test");
    expect(`<${mail?.messageId}>`).toBe(messageIdFor({ id: id as string, kind: "deleted" }, "mindroom.test"));
    expect(mail?.headers["X-Mindroom-Kind"] ?? mail?.headers["X-MindRoom-Kind"]).toEqual(["deleted"]);
    const [row] = (await listEmails(db.pool, { limit: 1000 })).filter((e) => e.recipient === to);
    expect(row).toMatchObject({ status: "sent", attempts: 1, lastError: null });
    expect(row?.smtpResponse).toMatch(/^250/);
  });

  test("the same event decided again is not queued again", async () => {
    const to = `${randomUUID()}@example.test`;
    const customerId = randomUUID();
    const first = await queueEmail(db.pool, {
      customerId,
      kind: "deleted",
      eventKey: "op-2",
      recipient: to,
      facts: facts(),
    });
    const again = await queueEmail(db.pool, {
      customerId,
      kind: "deleted",
      eventKey: "op-2",
      recipient: to,
      facts: facts("Other"),
    });
    expect(first.queued).toBe(true);
    expect(again).toEqual({ queued: false, id: null });
    // A different event of the same kind is its own email.
    expect(
      (
        await queueEmail(db.pool, {
          customerId,
          kind: "deleted",
          eventKey: "op-3",
          recipient: to,
          facts: facts(),
        })
      ).queued,
    ).toBe(true);
    await drain();
    expect((await inbox.messagesTo(to)).map((m) => m.subject)).toHaveLength(2);
  });

  test("two senders draining at once send each email once", async () => {
    const to = `${randomUUID()}@example.test`;
    for (let i = 0; i < 6; i += 1) await decide(to, `burst-${i}`);
    await Promise.all([drain(), drain(), drain()]);
    expect(await inbox.messagesTo(to)).toHaveLength(6);
  });
});

describe("failures", () => {
  test("killed after the server accepted, before the commit: sent again with the same Message-ID", async () => {
    const to = `${randomUUID()}@example.test`;
    const { id } = await decide(to);
    // A sender in its own process, SIGKILLed the moment the server has accepted the message.
    const child = spawn(process.execPath, ["--input-type=module", "-e", KILLABLE_SENDER], {
      cwd: ROOT,
      env: { ...process.env, DATABASE_URL: db.url, SMTP_URL: smtpUrl },
      stdio: ["ignore", "pipe", "inherit"],
    });
    const exited = once(child, "exit");
    await new Promise<void>((resolve, reject) => {
      child.stdout?.on("data", (chunk: Buffer) => {
        if (chunk.toString().includes("accepted")) resolve();
      });
      child.once("exit", (code) =>
        reject(new Error(`the sender exited (${code}) before the server accepted`)),
      );
    });
    child.kill("SIGKILL");
    await exited;
    const afterKill = (await listEmails(db.pool, { limit: 1000 })).find((e) => e.id === id);
    expect(afterKill).toMatchObject({ status: "pending", attempts: 0 });
    expect(await inbox.messagesTo(to)).toHaveLength(1);

    await drain();
    const received = await inbox.messagesTo(to);
    expect(received).toHaveLength(2);
    expect(new Set(received.map((m) => m.messageId)).size).toBe(1);
    expect((await listEmails(db.pool, { limit: 1000 })).find((e) => e.id === id)).toMatchObject({
      status: "sent",
      attempts: 1,
    });
  });

  test("an unreachable server is retried later with backoff; the row keeps the error", async () => {
    const to = `${randomUUID()}@example.test`;
    const { id } = await decide(to);
    const down = createMailer({ smtpUrl: "smtp://127.0.0.1:1", from: "no-reply@mindroom.test" });
    // A moment ahead: only this row is pending (the others are sent or given up).
    const now = new Date(Date.now() + 1000);
    await sendDueEmails(deps({ mailer: down, now: () => now }), 1000);
    down.close();
    const row = (await listEmails(db.pool, { limit: 1000 })).find((e) => e.id === id);
    expect(row).toMatchObject({ status: "pending", attempts: 1 });
    expect(row?.lastError).toMatch(/ECONNREFUSED/);
    expect(row?.nextAttemptAt.getTime()).toBe(now.getTime() + retryDelayMs(1));
    expect(await inbox.messagesTo(to)).toHaveLength(0);
    // Once due again (and the server is back), it goes out.
    await drain({ now: () => new Date(now.getTime() + retryDelayMs(1) + 1) });
    expect(await inbox.messagesTo(to)).toHaveLength(1);
  });

  test("facts that cannot render are given up at once, with the reason, and nothing is sent", async () => {
    const to = `${randomUUID()}@example.test`;
    const { id } = await decide(to, "bad", { name: "Grace" });
    await drain();
    const row = (await listEmails(db.pool, { limit: 1000 })).find((e) => e.id === id);
    expect(row).toMatchObject({ status: "failed", attempts: 1 });
    expect(row?.lastError).toMatch(/facts for a deleted email do not fit: slug/);
    expect(lines.some((l) => l.level === "error" && l.msg === "email given up")).toBe(true);
    expect(await inbox.messagesTo(to)).toHaveLength(0);
  });
});

test("backoff doubles from 30 s and stops growing at 6 h", () => {
  expect([1, 2, 3, 4].map(retryDelayMs)).toEqual([30_000, 60_000, 120_000, 240_000]);
  expect(retryDelayMs(30)).toBe(6 * 3600_000);
});
