/**
 * Secrets never leave the process in logs, diffs or error texts. Redaction works on two levels:
 * fields whose name says "secret" (headers, keys, passwords, signatures, cookies, tokens) are
 * replaced wholesale, and string values that look like Stripe keys, webhook secrets, bearer
 * tokens, private keys or URLs with a password are masked wherever they appear, so an error
 * message quoting one is safe too.
 */
export const REDACTED = "[redacted]";

/** Field names whose values are never written. */
export const SECRET_FIELD =
  /secret|passw(or)?d|passphrase|token|authorization|cookie|signature|api[-_]?key|private[-_]?key|^headers$|^body$|^payload$|^raw/i;

/** Values that are secrets whatever field holds them. */
const SECRET_VALUES: readonly [RegExp, string][] = [
  [/\bwhsec_[A-Za-z0-9+/=_-]+/g, `whsec_${REDACTED}`],
  [/\b(sk|rk|pk)_(live|test)_[A-Za-z0-9_]+/g, `$1_$2_${REDACTED}`],
  // scheme://user:password@host → scheme://user:[redacted]@host
  [/\b([a-z][a-z0-9+.-]*:\/\/[^:/@\s]+):[^@\s]+@/gi, `$1:${REDACTED}@`],
  [/\bBearer\s+[A-Za-z0-9._~+/=-]+/g, `Bearer ${REDACTED}`],
  [
    /-----BEGIN ([A-Z0-9 ]*)PRIVATE KEY-----[\s\S]*?(-----END \1PRIVATE KEY-----|$)/g,
    `${REDACTED} private key`,
  ],
];

export function redactString(value: string): string {
  let out = value;
  for (const [pattern, replacement] of SECRET_VALUES) out = out.replace(pattern, replacement);
  return out;
}

/** A JSON-safe copy of `value` with secrets removed (depth-limited, cycle-safe). */
export function redact(value: unknown, depth = 0, seen = new WeakSet<object>()): unknown {
  if (typeof value === "string") return redactString(value);
  if (typeof value === "bigint") return value.toString();
  if (value === null || typeof value !== "object") return value;
  if (depth > 6 || seen.has(value)) return "[…]";
  seen.add(value);
  if (value instanceof Error) {
    // The stack is kept (it is how a failure gets fixed), masked like any text.
    return {
      name: value.name,
      message: redactString(value.message),
      ...("code" in value && typeof value.code === "string" ? { code: value.code } : {}),
      ...(value.stack ? { stack: redactString(value.stack) } : {}),
      ...(value.cause !== undefined ? { cause: redact(value.cause, depth + 1, seen) } : {}),
    };
  }
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map((item) => redact(item, depth + 1, seen));
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    out[key] = SECRET_FIELD.test(key) ? REDACTED : redact(item, depth + 1, seen);
  }
  return out;
}
