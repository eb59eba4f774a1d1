/**
 * The SMTP adapter: one nodemailer transport for `SMTP_URL`, sending
 * multipart (text + HTML) messages with the Message-ID the caller chose, so a
 * retried send of the same outbox row carries the same id (receivers and
 * Mailpit can recognise the repeat). Errors say whether a retry can help.
 */
import nodemailer from "nodemailer";

export interface OutgoingMail {
  readonly to: string;
  readonly subject: string;
  readonly text: string;
  readonly html: string;
  /** `<…@domain>`: stable per outbox row. */
  readonly messageId: string;
  /** Extra headers (e.g. `X-MindRoom-Kind`). */
  readonly headers?: Readonly<Record<string, string>>;
}

export interface SentMail {
  readonly messageId: string;
  /** The server's final reply to the message (e.g. `250 2.0.0 Ok: queued as …`). */
  readonly response: string;
}

export interface Mailer {
  send(mail: OutgoingMail): Promise<SentMail>;
  /** Passes on a message someone else wrote, as received (raw RFC 5322 text and its envelope). */
  relay(raw: string, envelope: { readonly from: string; readonly to: readonly string[] }): Promise<SentMail>;
  close(): void;
}

/** The server refused the message or could not be reached; `permanent` for 5xx replies. */
export class MailDeliveryError extends Error {
  override readonly name = "MailDeliveryError";
  readonly permanent: boolean;
  constructor(message: string, permanent: boolean, options?: ErrorOptions) {
    super(message, options);
    this.permanent = permanent;
  }
}

/** An SMTP error, without the URL's credentials (nodemailer's messages carry none; the URL never goes in). */
function deliveryError(error: unknown): MailDeliveryError {
  const e = error as { message?: string; responseCode?: number; code?: string };
  const code = typeof e.responseCode === "number" ? e.responseCode : undefined;
  const permanent = code !== undefined && code >= 500 && code < 600;
  const what = code !== undefined ? `SMTP ${code}` : (e.code ?? "SMTP error");
  return new MailDeliveryError(`${what}: ${e.message ?? String(error)}`, permanent, { cause: error });
}

export function createMailer(settings: { readonly smtpUrl: string; readonly from: string }): Mailer {
  const transport = nodemailer.createTransport({
    url: settings.smtpUrl,
    // Bounded, so a hung server turns into a retry instead of a stuck sender.
    connectionTimeout: 15_000,
    greetingTimeout: 15_000,
    socketTimeout: 30_000,
  });
  return {
    async send(mail) {
      try {
        const info = await transport.sendMail({
          from: settings.from,
          to: mail.to,
          subject: mail.subject,
          text: mail.text,
          html: mail.html,
          messageId: mail.messageId,
          headers: { "Auto-Submitted": "auto-generated", ...mail.headers },
        });
        return { messageId: info.messageId, response: info.response };
      } catch (error) {
        throw deliveryError(error);
      }
    },
    async relay(raw, envelope) {
      try {
        const info = await transport.sendMail({
          envelope: { from: envelope.from, to: [...envelope.to] },
          raw,
        });
        return { messageId: info.messageId, response: info.response };
      } catch (error) {
        throw deliveryError(error);
      }
    },
    close: () => transport.close(),
  };
}
