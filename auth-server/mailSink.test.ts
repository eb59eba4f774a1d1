/**
 * The SMTP sink against a raw SMTP conversation: envelope, dot-stuffing,
 * multipart/alternative with quoted-printable and base64 parts, and
 * encoded-word subjects; and passing every message on to another SMTP server
 * (the platform's inbox) through the platform's own mailer.
 */
import { once } from "node:events";
import { connect } from "node:net";
import { afterAll, beforeAll, expect, test } from "vitest";
import { createMailer } from "../mail/transport.ts";
import { MailSink } from "./mailSink.ts";

let sink: MailSink;
beforeAll(async () => {
  sink = await MailSink.start();
});
afterAll(async () => {
  await sink.close();
});

/** Sends each line and waits for the server's reply line(s) before the next, as a mailer does. */
async function converse(lines: readonly string[], to: MailSink = sink): Promise<string[]> {
  const socket = connect({ host: "127.0.0.1", port: to.port });
  socket.setEncoding("utf8");
  const replies: string[] = [];
  let buffered = "";
  const nextReply = () =>
    new Promise<string>((resolve) => {
      const check = () => {
        const match = /(^|\r\n)(\d{3}) [^\r\n]*\r\n/.exec(buffered);
        if (!match)
          return socket.once("data", (chunk: string) => {
            buffered += chunk;
            check();
          });
        const end = (match.index ?? 0) + match[0].length;
        const reply = buffered.slice(0, end);
        buffered = buffered.slice(end);
        resolve(reply.trim());
      };
      check();
    });
  replies.push(await nextReply());
  let inData = false;
  for (const line of lines) {
    socket.write(`${line}\r\n`);
    // Message lines get no reply; the "." that ends them does.
    if (inData && line !== ".") continue;
    inData = line === "DATA";
    replies.push(await nextReply());
  }
  socket.end();
  await once(socket, "close");
  return replies;
}

test("a multipart message is captured with its envelope and decoded bodies", async () => {
  const waiting = sink.waitFor((message) => message.to.includes("user@example.test"));
  const replies = await converse([
    "EHLO mailer.local",
    "MAIL FROM:<no-reply@mindroom.local>",
    "RCPT TO:<User@Example.test>",
    "DATA",
    "From: MindRoom <no-reply@mindroom.local>",
    "To: user@example.test",
    "Subject: =?UTF-8?Q?Your_sign-in_code_=E2=9C=93?=",
    'Content-Type: multipart/alternative; boundary="b1"',
    "",
    "--b1",
    "Content-Type: text/plain; charset=UTF-8",
    "Content-Transfer-Encoding: quoted-printable",
    "",
    "Your code is 123456. Open https://portal.test/auth/confirm?flow=3D9&code=",
    "=3D123456",
    "..a line that started with a dot",
    "--b1",
    "Content-Type: text/html; charset=UTF-8",
    "Content-Transfer-Encoding: base64",
    "",
    Buffer.from('<a href="https://portal.test/x">sign in</a>').toString("base64"),
    "--b1--",
    ".",
    "QUIT",
  ]);
  expect(replies[0]).toMatch(/^220 /);
  expect(replies.at(-2)).toMatch(/^250 OK: queued/);

  const message = await waiting;
  expect(message.from).toBe("no-reply@mindroom.local");
  expect(message.to).toEqual(["user@example.test"]);
  expect(message.subject).toBe("Your sign-in code ✓");
  // Soft line break joined, =3D decoded, the doubled dot undone.
  expect(message.text).toContain(
    "https://portal.test/auth/confirm?flow=9&code=123456\r\n.a line that started with a dot",
  );
  expect(message.html).toBe('<a href="https://portal.test/x">sign in</a>');
  expect(await sink.latestTo("USER@example.test")).toBe(message);
});

test("waiting for mail that never comes fails with what did arrive", async () => {
  await expect(
    sink.waitFor((message) => message.to.includes("nobody@example.test"), { timeoutMs: 50 }),
  ).rejects.toThrow(
    /no matching mail arrived within 50 ms \(received: user@example.test: Your sign-in code ✓\)/,
  );
});

const simpleMessage = (to: string, subject: string) => [
  "EHLO mailer.local",
  "MAIL FROM:<no-reply@mindroom.local>",
  `RCPT TO:<${to}>`,
  "DATA",
  "From: MindRoom <no-reply@mindroom.local>",
  `To: ${to}`,
  `Subject: ${subject}`,
  "",
  "Your code is 654321.",
  ".",
  "QUIT",
];

test("with a forward, every message is also passed on to the next SMTP server as received", async () => {
  await using inbox = await MailSink.start();
  const relay = createMailer({ smtpUrl: inbox.smtpUrl, from: "unused@mindroom.local" });
  await using forwarding = await MailSink.start({ forward: (m) => relay.relay(m.raw, m) });
  try {
    const replies = await converse(simpleMessage("ada@example.test", "Your sign-in code"), forwarding);
    expect(replies.at(-2)).toMatch(/^250 OK: queued/);
    const kept = await forwarding.latestTo("ada@example.test");
    const passedOn = await inbox.latestTo("ada@example.test");
    expect(passedOn.from).toBe("no-reply@mindroom.local");
    expect(passedOn.subject).toBe("Your sign-in code");
    expect(passedOn.text).toContain("Your code is 654321.");
    expect(passedOn.raw.trimEnd()).toBe(kept.raw.trimEnd());
  } finally {
    relay.close();
  }
});

test("a message that cannot be passed on is refused for a retry and not kept", async () => {
  await using forwarding = await MailSink.start({
    forward: () => Promise.reject(new Error("the inbox is down")),
  });
  const replies = await converse(simpleMessage("grace@example.test", "Your sign-in code"), forwarding);
  expect(replies.at(-2)).toMatch(/^451 /);
  expect(forwarding.messages()).toEqual([]);
});
