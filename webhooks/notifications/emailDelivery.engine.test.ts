/**
 * Customer emails on the real pipeline: the webhook service (queue, reconcile
 * worker, outbox sender) as a child process on a real Postgres, Stripe's
 * signed events from the local Stripe API, the real Pulumi engine on the
 * Dokku test host, and the run's Mailpit read through its API.
 *
 * The service is SIGKILLed after the worker decided the welcome email and
 * while the sender was talking to an SMTP server that never answers; after a
 * restart the email arrives exactly once, and further reconciles of the same
 * state (new Stripe events, a redelivery) send nothing more. The same holds
 * for a failed payment, a cancellation and the deletion. No message carries
 * a secret: the raw sources are scanned for the tenant's derived secrets, the
 * root secret and the Stripe secrets.
 */
import { randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import { parseSlug } from "../../components/tenantNames.ts";
import { deriveSecret, SECRET_PURPOSES } from "../../components/tenantSecrets.ts";
import { findCustomerByStripeId } from "../../database/customers.ts";
import { listEmails, type OutboxEmail } from "../../database/emailOutbox.ts";
import type { Instance } from "../../database/instances.ts";
import type { TestDatabase } from "../../testing/database.ts";
import { dokkuTarget } from "../../testing/dokkuTarget.ts";
import { instanceOfStripeCustomer } from "../../testing/instanceRows.ts";
import { type Inbox, testMailpit } from "../../testing/mailpit.ts";
import { checkOut, type LocalStripe } from "../../testing/stripeLocal.ts";
import { startStripePipeline } from "../../testing/stripePipeline.ts";
import { SAMPLE_ROOT_SECRET } from "../../testing/tenantSamples.ts";
import { waitFor } from "../../testing/waitFor.ts";
import type { WebhookServiceChild } from "../../testing/webhookService.ts";

const target = dokkuTarget();
const dataDir = mkdtempSync(join(tmpdir(), "mindroom-email-e2e-"));
let db: TestDatabase;
let local: LocalStripe;
let inbox: Inbox;
let smtpUrl: string;
let service: WebhookServiceChild;
let webhookSecret: string;

/** An SMTP server that takes connections and never says a word: a send hangs until the greeting times out. */
let silent: Server;
const silentConnections: Socket[] = [];
/** An engine operation on a loaded 2-core machine, with room. */
const ENGINE_WAIT = { timeoutMs: 240_000, intervalMs: 250 };

beforeAll(async () => {
  const mailpit = await testMailpit();
  inbox = mailpit.inbox;
  smtpUrl = mailpit.smtpUrl;
  silent = createServer((socket) => silentConnections.push(socket));
  await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
  const port = (silent.address() as { port: number }).port;
  ({
    db,
    stripe: local,
    service,
    webhookSecret,
  } = await startStripePipeline({
    dataDir,
    target,
    deletionGrace: "3s",
    portalUrl: "http://portal.example.test",
    smtpUrl: `smtp://127.0.0.1:${port}`,
  }));
});

afterAll(async () => {
  await service?.stop();
  for (const socket of silentConnections) socket.destroy();
  await new Promise((resolve) => silent?.close(resolve));
  await local?.stop();
  await db?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

async function outboxOf(customerKey: string): Promise<OutboxEmail[]> {
  const customer = await findCustomerByStripeId(db.pool, customerKey);
  return customer ? (await listEmails(db.pool, { customerId: customer.id })).reverse() : [];
}

/** Every event delivered, and no reconcile of the customer queued or running. */
async function settled(customerKey: string): Promise<void> {
  await local.idle();
  await waitFor(
    "the customer's reconciles to finish",
    async () => {
      const { rows } = await db.pool.query<{ n: number }>(
        `select count(*)::int as n from pgboss.job where name = 'reconcile' and singleton_key = $1
        and (state = 'active' or (state in ('created', 'retry') and start_after <= now()))`,
        [customerKey],
      );
      return rows[0]?.n === 0 ? true : undefined;
    },
    ENGINE_WAIT,
  );
}

/** A Stripe event about the subscription that changes nothing the platform acts on: one more reconcile. */
async function nudge(subscription: string): Promise<void> {
  await local.stripe.subscriptions.update(subscription, { metadata: { nudge: randomUUID() } });
}

test("each email once per event, across a kill between deciding and sending; no secrets", {
  timeout: 900_000,
}, async () => {
  const email = `mail-${randomUUID().slice(0, 8)}@example.test`;
  const { customer, subscription } = await checkOut(local, { email, name: "Mary Somerville" });

  // The worker provisions on the real engine and decides the welcome in the same transaction.
  const welcome = await waitFor(
    "the welcome email to be decided",
    async () => (await outboxOf(customer)).find((e) => e.kind === "welcome"),
    ENGINE_WAIT,
  );
  expect(welcome.status).toBe("pending");
  // The sender is mid-send: connected to a server that never answers. Kill the whole service now.
  await waitFor("the sender to connect", async () => (silentConnections.length > 0 ? true : undefined), {
    timeoutMs: 30_000,
    intervalMs: 250,
  });
  await service.stop("SIGKILL");
  expect(await inbox.messagesTo(email)).toEqual([]);
  expect((await outboxOf(customer)).map((e) => [e.kind, e.status])).toEqual([["welcome", "pending"]]);

  await service.start({ SMTP_URL: smtpUrl });
  const received = await inbox.waitFor(email, /^Welcome to MindRoom Cloud/);
  const instance = (await instanceOfStripeCustomer(db.pool, customer)) as Instance;
  expect(received.text).toContain(`https://${instance.slug}.mindroom.test`);
  expect(received.text).toContain("http://portal.example.test/login");

  // More reconciles of the same state, and a redelivered event: nothing more is sent.
  await nudge(subscription);
  await settled(customer);

  // A failed payment: told once, however many times the worker looks again.
  await local.controls.paymentFailed(subscription);
  await inbox.waitFor(email, /payment .* failed/);
  await nudge(subscription);
  await settled(customer);

  // Cancelled: the deletion notice with its date, then (after the 3 s grace) the deletion.
  const canceled = await local.stripe.subscriptions.cancel(subscription);
  const deletedMail = await inbox.waitFor(email, /has been deleted/, { timeoutMs: 240_000 });
  expect(deletedMail.text).toContain(instance.slug);
  await settled(customer);
  // Let any stray send surface before counting.
  await new Promise((r) => setTimeout(r, 3000));

  const messages = await inbox.messagesTo(email);
  expect(messages.map((m) => m.subject)).toEqual([
    "Welcome to MindRoom Cloud: your MindRoom is ready",
    "Your payment for MindRoom Cloud failed",
    expect.stringMatching(/^Your MindRoom will be deleted on /),
    "Your MindRoom has been deleted",
  ]);
  const notice = messages[2];
  const due = new Date(((canceled.ended_at ?? 0) + 3) * 1000);
  expect(notice?.text).toContain(
    `${due.getUTCHours().toString().padStart(2, "0")}:${due.getUTCMinutes().toString().padStart(2, "0")} UTC`,
  );
  const outbox = await outboxOf(customer);
  expect(outbox.map((e) => [e.kind, e.status, e.attempts])).toEqual([
    ["welcome", "sent", 1],
    ["payment_failed", "sent", 1],
    ["deletion_scheduled", "sent", 1],
    ["deleted", "sent", 1],
  ]);
  // Each email's Message-ID is its outbox row's.
  expect(messages.map((m) => `<${m.messageId}>`)).toEqual(outbox.map((e) => e.messageId));

  // No secret in any message, headers and encodings included.
  const slug = parseSlug(instance.slug);
  const secrets = [
    ...SECRET_PURPOSES.map((purpose) => deriveSecret(SAMPLE_ROOT_SECRET, slug, purpose)),
    SAMPLE_ROOT_SECRET,
    webhookSecret,
    local.secretKey,
    readFileSync(target.keyPath, "utf8").split("\n")[1] ?? "unreadable key",
  ];
  for (const message of messages) {
    const decoded = `${message.raw}\n${message.text}\n${message.html}`;
    for (const secret of secrets) expect(decoded).not.toContain(secret);
  }
});
