/**
 * Opens outgoing mail: `SMTP_URL` when set, otherwise the local Mailpit in
 * the data folder (started here, or joined when another process of this
 * platform runs it), as `openDatabase` does for Postgres.
 */
import { join } from "node:path";
import { startMailpit } from "./mailpit.ts";
import { type OutboxSenderDeps, startOutboxSender } from "./outboxSender.ts";
import type { MailSettings } from "./settings.ts";
import { createMailer, type Mailer } from "./transport.ts";

export interface MailConnection {
  readonly mailer: Mailer;
  /** The local Mailpit's web inbox; undefined with `SMTP_URL`. */
  readonly inboxUrl: string | undefined;
  /** Closes the transport, then stops the local Mailpit if this call started it. */
  close(): Promise<void>;
}

export async function openMail(settings: MailSettings): Promise<MailConnection> {
  const local = settings.smtpUrl ? undefined : await startMailpit({ dir: join(settings.dataDir, "mailpit") });
  const mailer = createMailer({
    smtpUrl: settings.smtpUrl ?? (local?.smtpUrl as string),
    from: settings.from,
  });
  return {
    mailer,
    inboxUrl: local?.webUrl,
    async close() {
      mailer.close();
      await local?.stop();
    },
  };
}

export interface MailDelivery {
  /** The connection's mailer, for mail that is not a customer's (critical alerts to operators). */
  readonly mailer: Mailer;
  /** The local Mailpit's web inbox; undefined with `SMTP_URL`. */
  readonly inboxUrl: string | undefined;
  /** Sends what is due now instead of at the next tick. */
  wake(): void;
  /** Stops the sender after its drain in progress, then closes the connection. */
  stop(): Promise<void>;
}

/** Opens mail and drains the outbox into it until stopped (mail/outboxSender.ts). */
export async function startMailDelivery(
  settings: MailSettings,
  deps: Pick<OutboxSenderDeps, "pool" | "log"> & { readonly intervalMs?: number },
): Promise<MailDelivery> {
  const connection = await openMail(settings);
  const sender = startOutboxSender(
    {
      pool: deps.pool,
      log: deps.log,
      mailer: connection.mailer,
      links: { portalUrl: settings.portalUrl },
      messageDomain: settings.fromDomain,
    },
    { intervalMs: deps.intervalMs },
  );
  return {
    mailer: connection.mailer,
    inboxUrl: connection.inboxUrl,
    wake: () => sender.wake(),
    async stop() {
      await sender.stop();
      await connection.close();
    },
  };
}
