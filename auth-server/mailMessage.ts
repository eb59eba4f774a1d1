/**
 * Reads one RFC 5322 message as the auth server's mailer sends it (plain or
 * multipart/alternative, quoted-printable, base64 or 7bit parts) into the
 * parts tests look at: recipients, subject, text and HTML bodies.
 */

export interface MailMessage {
  readonly from: string;
  /** Envelope recipients (RCPT TO), lower-cased. */
  readonly to: readonly string[];
  readonly subject: string;
  /** The text/plain body, decoded ("" when the message has none). */
  readonly text: string;
  /** The text/html body, decoded ("" when the message has none). */
  readonly html: string;
  /** The message as received (headers and body). */
  readonly raw: string;
}

interface Part {
  readonly headers: ReadonlyMap<string, string>;
  readonly body: string;
}

/** Splits a header block and body, unfolding continuation lines. */
function splitPart(source: string): Part {
  const separator = source.search(/\r?\n\r?\n/);
  const head = separator < 0 ? source : source.slice(0, separator);
  const body = separator < 0 ? "" : source.slice(separator).replace(/^\r?\n\r?\n/, "");
  const headers = new Map<string, string>();
  for (const line of head.replace(/\r?\n[ \t]+/g, " ").split(/\r?\n/)) {
    const colon = line.indexOf(":");
    if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  return { headers, body };
}

function decodeQuotedPrintable(body: string): string {
  const bytes: number[] = [];
  const joined = body.replace(/=\r?\n/g, "");
  for (let i = 0; i < joined.length; i += 1) {
    const hex = joined.slice(i + 1, i + 3);
    if (joined[i] === "=" && /^[0-9A-Fa-f]{2}$/.test(hex)) {
      bytes.push(Number.parseInt(hex, 16));
      i += 2;
    } else {
      bytes.push(...Buffer.from(joined[i] ?? "", "utf8"));
    }
  }
  return Buffer.from(bytes).toString("utf8");
}

function decodeBody(part: Part): string {
  const encoding = (part.headers.get("content-transfer-encoding") ?? "7bit").toLowerCase();
  if (encoding === "quoted-printable") return decodeQuotedPrintable(part.body);
  if (encoding === "base64") return Buffer.from(part.body.replace(/\s+/g, ""), "base64").toString("utf8");
  return part.body;
}

/** RFC 2047 encoded words (`=?UTF-8?Q?…?=` / `=?UTF-8?B?…?=`) in a header value. */
function decodeHeader(value: string): string {
  return value.replace(/=\?([^?]+)\?([QqBb])\?([^?]*)\?=/g, (_match, _charset, kind: string, text: string) =>
    kind.toUpperCase() === "B"
      ? Buffer.from(text, "base64").toString("utf8")
      : decodeQuotedPrintable(text.replace(/_/g, " ")),
  );
}

/** Leaf parts of a (possibly nested) multipart body, or the part itself. */
function leaves(part: Part): Part[] {
  const type = part.headers.get("content-type") ?? "text/plain";
  const boundary = /boundary="?([^";]+)"?/i.exec(type)?.[1];
  if (!type.toLowerCase().startsWith("multipart/") || !boundary) return [part];
  return part.body
    .split(`--${boundary}`)
    .slice(1)
    .filter((chunk) => !chunk.startsWith("--"))
    .flatMap((chunk) => leaves(splitPart(chunk.replace(/^\r?\n/, ""))));
}

export function parseMailMessage(
  raw: string,
  envelope: { from: string; to: readonly string[] },
): MailMessage {
  const message = splitPart(raw);
  const parts = leaves(message);
  const bodyOf = (type: string) =>
    parts
      .filter((part) => (part.headers.get("content-type") ?? "text/plain").toLowerCase().startsWith(type))
      .map(decodeBody)
      .join("\n");
  return {
    from: envelope.from,
    to: envelope.to.map((address) => address.toLowerCase()),
    subject: decodeHeader(message.headers.get("subject") ?? ""),
    text: bodyOf("text/plain"),
    html: bodyOf("text/html"),
    raw,
  };
}
