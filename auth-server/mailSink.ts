/**
 * A local SMTP server that accepts every message and keeps it in memory, so
 * the auth server's real mailer (sign-in codes, recovery links) can run
 * locally and tests can read what a user would have received. It speaks the
 * plain-text subset of SMTP a mailer needs (EHLO/HELO, MAIL, RCPT, DATA, RSET,
 * NOOP, QUIT) on 127.0.0.1 and offers no STARTTLS or AUTH.
 */
import { once } from "node:events";
import { createServer, type Server, type Socket } from "node:net";
import { type MailMessage, parseMailMessage } from "./mailMessage.ts";

export type { MailMessage } from "./mailMessage.ts";

export class MailSinkError extends Error {
  override readonly name = "MailSinkError";
}

export interface WaitForMailOptions {
  /** How long to wait before failing (default 30 s): a bound, not an assertion on speed. */
  readonly timeoutMs?: number;
}

type Listener = (message: MailMessage) => void;

/** Passes a received message on (e.g. `Mailer.relay`); rejects when it could not. */
export type MailForward = (message: MailMessage) => Promise<unknown>;

/** Parses the address out of `MAIL FROM:<a@b>` / `RCPT TO:<a@b> …`. */
function addressOf(argument: string): string {
  return /<([^>]*)>/.exec(argument)?.[1] ?? argument.split(/\s+/)[0] ?? "";
}

export class MailSink {
  readonly #server: Server;
  readonly #messages: MailMessage[] = [];
  readonly #listeners = new Set<Listener>();
  readonly #sockets = new Set<Socket>();
  readonly #forward: MailForward | undefined;
  readonly port: number;

  private constructor(server: Server, port: number, forward: MailForward | undefined) {
    this.#server = server;
    this.port = port;
    this.#forward = forward;
  }

  /**
   * Starts listening on 127.0.0.1 (`port` 0 or unset: a free port). With `forward`, every
   * message is also passed on (to the platform's mail inbox, so a person signing in locally
   * finds their link there); a message it cannot pass on is refused with a 451, which the
   * sender retries, and is not kept.
   */
  static async start(options: { port?: number; forward?: MailForward } = {}): Promise<MailSink> {
    const server = createServer();
    server.listen({ host: "127.0.0.1", port: options.port ?? 0 });
    await once(server, "listening");
    const address = server.address();
    if (typeof address !== "object" || address === null)
      throw new MailSinkError("the mail sink has no address");
    const sink = new MailSink(server, address.port, options.forward);
    server.on("connection", (socket) => sink.#serve(socket));
    return sink;
  }

  /** A mailer connection URI for this sink (plain SMTP, no TLS). */
  get smtpUrl(): string {
    return `smtp://127.0.0.1:${this.port}/?disable_starttls=true`;
  }

  /** Every message received so far, oldest first. */
  messages(): readonly MailMessage[] {
    return [...this.#messages];
  }

  /** The first message (received before or after this call) that matches. */
  async waitFor(
    match: (message: MailMessage) => boolean,
    options: WaitForMailOptions = {},
  ): Promise<MailMessage> {
    const found = this.#messages.find(match);
    if (found) return found;
    const timeoutMs = options.timeoutMs ?? 30_000;
    return new Promise((resolve, reject) => {
      const listener: Listener = (message) => {
        if (!match(message)) return;
        clearTimeout(timer);
        this.#listeners.delete(listener);
        resolve(message);
      };
      const timer = setTimeout(() => {
        this.#listeners.delete(listener);
        const seen = this.#messages.map((message) => `${message.to.join(",")}: ${message.subject}`);
        reject(
          new MailSinkError(
            `no matching mail arrived within ${timeoutMs} ms (received: ${seen.join("; ") || "none"}); ` +
              "check that the auth server's courier runs and points at this sink",
          ),
        );
      }, timeoutMs);
      this.#listeners.add(listener);
    });
  }

  /** The newest message addressed to `email`, waiting for one if none has arrived. */
  async latestTo(email: string, options: WaitForMailOptions = {}): Promise<MailMessage> {
    const address = email.toLowerCase();
    const existing = this.#messages.filter((message) => message.to.includes(address)).at(-1);
    return existing ?? this.waitFor((message) => message.to.includes(address), options);
  }

  async close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #deliver(message: MailMessage): void {
    this.#messages.push(message);
    for (const listener of [...this.#listeners]) listener(message);
  }

  #serve(socket: Socket): void {
    this.#sockets.add(socket);
    socket.on("close", () => this.#sockets.delete(socket));
    socket.on("error", () => socket.destroy());
    socket.setEncoding("utf8");
    const reply = (line: string) => socket.write(`${line}\r\n`);
    let from = "";
    let to: string[] = [];
    let buffer = "";
    let data: string[] | undefined;

    const command = (line: string) => {
      const verb = line.slice(0, 4).toUpperCase();
      const argument = line.slice(line.indexOf(":") + 1);
      switch (verb) {
        case "EHLO":
          reply("250-mindroom-mail-sink");
          reply("250-8BITMIME");
          reply("250 SMTPUTF8");
          return;
        case "HELO":
          return reply("250 mindroom-mail-sink");
        case "MAIL":
          from = addressOf(argument.trim());
          to = [];
          return reply("250 OK");
        case "RCPT":
          to.push(addressOf(argument.trim()));
          return reply("250 OK");
        case "DATA":
          if (to.length === 0) return reply("503 RCPT TO first");
          data = [];
          return reply("354 End data with <CR><LF>.<CR><LF>");
        case "RSET":
          from = "";
          to = [];
          return reply("250 OK");
        case "NOOP":
          return reply("250 OK");
        case "QUIT":
          reply("221 Bye");
          socket.end();
          return;
        default:
          return reply("502 Command not implemented");
      }
    };

    socket.on("data", (chunk: string) => {
      buffer += chunk;
      for (let end = buffer.indexOf("\r\n"); end >= 0; end = buffer.indexOf("\r\n")) {
        const line = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        if (data === undefined) {
          command(line);
        } else if (line === ".") {
          const message = parseMailMessage(data.join("\r\n"), { from, to });
          data = undefined;
          from = "";
          to = [];
          // No PIPELINING is offered, so the sender waits for this reply before its next command.
          (this.#forward?.(message) ?? Promise.resolve()).then(
            () => {
              this.#deliver(message);
              reply("250 OK: queued");
            },
            () => reply("451 the message could not be passed on; try again later"),
          );
        } else {
          // Dot-stuffing: a leading "." was doubled by the sender.
          data.push(line.startsWith("..") ? line.slice(1) : line);
        }
      }
    });
    reply("220 mindroom-mail-sink ESMTP");
  }
}
