/**
 * The test run's Mailpit: `testing/globalSetup.ts` starts one for the whole
 * run (`provideTestMailpit`), and tests read it through its API
 * (`/api/v1/search`, `/api/v1/message/{id}`, `…/raw`) as a person reads their
 * inbox (`testMailpit().inbox`): the messages sent to one address, each with
 * its text, HTML, headers and raw source. Test files share the Mailpit, so
 * every read is scoped to a recipient the test owns.
 *
 * This module loads vitest only inside `testMailpit()`, so globalSetup can import it.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { z } from "zod";
import { type MailpitServer, startMailpit } from "../mail/mailpit.ts";

export interface ProvidedMailpit {
  readonly smtpUrl: string;
  readonly webUrl: string;
}

declare module "vitest" {
  export interface ProvidedContext {
    /** The run's Mailpit, or null when it could not start (see mailpitError). */
    mailpit: ProvidedMailpit | null;
    /** Why the run's Mailpit is not available (empty when it is). */
    mailpitError: string;
  }
}

async function startTestMailpit(): Promise<MailpitServer & { stopAndClean(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), "mindroom-mailpit-"));
  const server = await startMailpit({ dir, persistent: false, smtpPort: 0, httpPort: 0 });
  return {
    ...server,
    async stopAndClean() {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** For globalSetup: starts the run's Mailpit and provides its URLs (or why it failed). Returns the teardown. */
export async function provideTestMailpit(project: TestProject): Promise<() => Promise<void>> {
  try {
    const server = await startTestMailpit();
    project.provide("mailpit", { smtpUrl: server.smtpUrl, webUrl: server.webUrl });
    project.provide("mailpitError", "");
    return () => server.stopAndClean();
  } catch (error) {
    project.provide("mailpit", null);
    project.provide("mailpitError", (error as Error).message);
    return async () => undefined;
  }
}

let ownServer: Promise<Awaited<ReturnType<typeof startTestMailpit>>> | undefined;

/** The run's Mailpit (or, outside the run's globalSetup, one started for this process). */
export async function testMailpit(): Promise<ProvidedMailpit & { readonly inbox: Inbox }> {
  const { inject } = await import("vitest");
  let provided: ProvidedMailpit | null | undefined;
  let reason = "";
  try {
    provided = inject("mailpit");
    reason = inject("mailpitError");
  } catch {
    provided = undefined; // not under vitest's globalSetup
  }
  if (reason) throw new Error(`the test run's Mailpit did not start: ${reason}`);
  if (!provided) {
    ownServer ??= startTestMailpit();
    const server = await ownServer;
    provided = { smtpUrl: server.smtpUrl, webUrl: server.webUrl };
  }
  return { ...provided, inbox: new Inbox(provided.webUrl) };
}

const address = z.object({ Name: z.string(), Address: z.string() });

const summary = z.object({
  ID: z.string(),
  MessageID: z.string(),
  From: address.nullable(),
  To: z.array(address).nullable(),
  Subject: z.string(),
  Created: z.string(),
});

const message = summary.omit({ Created: true }).extend({
  Date: z.string(),
  Text: z.string(),
  HTML: z.string(),
});

export interface InboxMessage {
  readonly id: string;
  /** The Message-ID header's value, without angle brackets. */
  readonly messageId: string;
  readonly from: string;
  readonly to: readonly string[];
  readonly subject: string;
  readonly text: string;
  readonly html: string;
  /** The whole message as received (headers and encoded body). */
  readonly raw: string;
  readonly headers: Readonly<Record<string, readonly string[]>>;
}

export class Inbox {
  readonly webUrl: string;

  constructor(webUrl: string) {
    this.webUrl = webUrl.replace(/\/+$/, "");
  }

  async #json(path: string): Promise<unknown> {
    const answer = await fetch(`${this.webUrl}${path}`);
    if (!answer.ok) throw new Error(`Mailpit ${path} answered ${answer.status}: ${await answer.text()}`);
    return answer.json();
  }

  /** Summaries of every message to `recipient`, oldest first. */
  async summariesTo(recipient: string): Promise<z.infer<typeof summary>[]> {
    const query = encodeURIComponent(`to:"${recipient}"`);
    const result = z
      .object({ messages: z.array(summary) })
      .parse(await this.#json(`/api/v1/search?query=${query}&limit=500`));
    // Search matches substrings; keep exact recipients only.
    return result.messages
      .filter((m) => m.To?.some((t) => t.Address.toLowerCase() === recipient.toLowerCase()))
      .reverse();
  }

  async message(id: string): Promise<InboxMessage> {
    const m = message.parse(await this.#json(`/api/v1/message/${encodeURIComponent(id)}`));
    const headers = z
      .record(z.string(), z.array(z.string()))
      .parse(await this.#json(`/api/v1/message/${encodeURIComponent(id)}/headers`));
    const rawAnswer = await fetch(`${this.webUrl}/api/v1/message/${encodeURIComponent(id)}/raw`);
    return {
      id: m.ID,
      messageId: m.MessageID,
      from: m.From?.Address ?? "",
      to: (m.To ?? []).map((t) => t.Address),
      subject: m.Subject,
      text: m.Text,
      html: m.HTML,
      raw: await rawAnswer.text(),
      headers,
    };
  }

  /** Every message to `recipient`, oldest first, read in full. */
  async messagesTo(recipient: string): Promise<InboxMessage[]> {
    const found = await this.summariesTo(recipient);
    return Promise.all(found.map((s) => this.message(s.ID)));
  }

  /**
   * Waits until `recipient` has a message whose subject matches, and returns
   * the first such (oldest). The timeout bounds the wait; it asserts nothing about speed.
   */
  async waitFor(
    recipient: string,
    subject: RegExp,
    options: { readonly timeoutMs?: number } = {},
  ): Promise<InboxMessage> {
    const deadline = Date.now() + (options.timeoutMs ?? 60_000);
    for (;;) {
      const hit = (await this.summariesTo(recipient)).find((m) => subject.test(m.Subject));
      if (hit) return this.message(hit.ID);
      if (Date.now() > deadline) {
        const seen = (await this.summariesTo(recipient)).map((m) => m.Subject);
        throw new Error(
          `no email to ${recipient} with a subject matching ${subject} within the wait; it has: ${JSON.stringify(seen)}`,
        );
      }
      await new Promise((done) => setTimeout(done, 250));
    }
  }
}
