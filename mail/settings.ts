/**
 * Outgoing mail's configuration, read once from the environment: `SMTP_URL`
 * (`smtp://user:pass@host:port`, `smtps://` for implicit TLS; unset means the
 * local Mailpit kept in the data folder), `MAIL_FROM` (the sender customers
 * see) and `PORTAL_PUBLIC_URL` (where the links in every email point). In
 * production none of them has a default.
 */
import { resolve } from "node:path";
import { z } from "zod";
import { unset } from "../components/environments.ts";

export interface MailSettings {
  /** `SMTP_URL` (holds a password: never log it); undefined means "the local Mailpit". */
  readonly smtpUrl: string | undefined;
  /** `MAIL_FROM`: `MindRoom <no-reply@example.com>` or a bare address. */
  readonly from: string;
  /** The domain of the sender address, for Message-IDs. */
  readonly fromDomain: string;
  /** `PORTAL_PUBLIC_URL` without a trailing slash: the base of every link in an email. */
  readonly portalUrl: string;
  /** `MINDROOM_DATA_DIR`: where the local Mailpit keeps its messages and ports. */
  readonly dataDir: string;
}

export class MailSettingsError extends Error {
  override readonly name = "MailSettingsError";
}

const ADDRESS = /^[^\s@<>"]+@[^\s@<>"]+\.[^\s@<>"]+$/;

/** `Name <a@b.c>` or `a@b.c` → the address part, or undefined when it is neither. */
export function senderAddress(from: string): string | undefined {
  const trimmed = from.trim();
  const bracketed = /^[^<>\r\n]*<([^<>\s]+)>$/.exec(trimmed)?.[1];
  const address = bracketed ?? trimmed;
  return ADDRESS.test(address) ? address : undefined;
}

const blankIsUnset = (value: unknown) =>
  typeof value === "string" && value.trim() === "" ? undefined : value;

const environment = z.object({
  SMTP_URL: z.preprocess(
    blankIsUnset,
    z
      .string()
      .refine((raw) => {
        try {
          const url = new URL(raw);
          return (url.protocol === "smtp:" || url.protocol === "smtps:") && url.hostname !== "";
        } catch {
          return false;
        }
      }, "must be smtp://[user:pass@]host[:port] or smtps://… (value not shown: it may hold a password)")
      .optional(),
  ),
  MAIL_FROM: z.preprocess(
    blankIsUnset,
    z
      .string()
      .refine((raw) => senderAddress(raw) !== undefined && !/[\r\n]/.test(raw), {
        message: "must be an address, or a name and <address> (e.g. MindRoom <no-reply@example.com>)",
      })
      .optional(),
  ),
  PORTAL_PUBLIC_URL: z.preprocess(
    blankIsUnset,
    z.url({ protocol: /^https?$/, error: "must be an http(s) URL" }).optional(),
  ),
  MINDROOM_BASE_DOMAIN: z.preprocess(blankIsUnset, z.string().optional()),
  MINDROOM_ENVIRONMENT: z.preprocess(blankIsUnset, z.string().optional()),
});

const MAIL_PRODUCTION_KEYS = ["SMTP_URL", "MAIL_FROM", "PORTAL_PUBLIC_URL"] as const;

/** What production refuses among the mail settings: the local Mailpit and derived sender and links. */
export function mailProductionProblems(env: NodeJS.ProcessEnv): string[] {
  const why: Record<(typeof MAIL_PRODUCTION_KEYS)[number], string> = {
    SMTP_URL: "SMTP_URL is unset (the local Mailpit): point it at your SMTP provider",
    MAIL_FROM:
      "MAIL_FROM is unset: set the sender customers see, on a domain your SMTP provider may send for",
    PORTAL_PUBLIC_URL:
      "PORTAL_PUBLIC_URL is unset: set the portal's public https URL (links in emails, Stripe returns, sign-in)",
  };
  return MAIL_PRODUCTION_KEYS.filter((name) => unset(env, name)).map((name) => why[name]);
}

export function loadMailSettings(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): MailSettings {
  const parsed = environment.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join(".")} ${issue.message}`);
    throw new MailSettingsError(`invalid mail configuration:\n  ${problems.join("\n  ")}`);
  }
  const values = parsed.data;
  if (values.MINDROOM_ENVIRONMENT === "production") {
    const problems = mailProductionProblems(env);
    if (problems.length > 0)
      throw new MailSettingsError(
        `MINDROOM_ENVIRONMENT=production needs ${MAIL_PRODUCTION_KEYS.filter((n) => unset(env, n)).join(", ")} set (no local mail defaults in production)`,
      );
  }
  const from =
    values.MAIL_FROM?.trim() ?? `MindRoom <no-reply@${values.MINDROOM_BASE_DOMAIN ?? "mindroom.test"}>`;
  const address = senderAddress(from) as string;
  return {
    smtpUrl: values.SMTP_URL,
    from,
    fromDomain: address.slice(address.lastIndexOf("@") + 1),
    portalUrl: (values.PORTAL_PUBLIC_URL ?? `http://127.0.0.1:${env.PORT?.trim() || 3000}`).replace(
      /\/+$/,
      "",
    ),
    dataDir: resolve(cwd, env.MINDROOM_DATA_DIR || ".data"),
  };
}
