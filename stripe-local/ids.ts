/** Stripe-style identifiers and timestamps. */
import { randomBytes } from "node:crypto";

const ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/** Lengths of the random part as Stripe's test-mode ids have them (e.g. `cus_` + 14). */
const LENGTHS: Record<string, number> = {
  cus: 14,
  sub: 24,
  si: 14,
  in: 24,
  il: 24,
  evt: 24,
  we: 24,
  pm: 24,
  bps: 24,
  bpc: 24,
  cs_test: 58,
  req: 14,
  ch: 24,
  pi: 24,
};

export function newId(prefix: string): string {
  const length = LENGTHS[prefix] ?? 24;
  const bytes = randomBytes(length);
  let out = "";
  for (const b of bytes) out += ALPHABET[b % ALPHABET.length];
  return `${prefix}_${out}`;
}

/** Unix seconds, the unit of every Stripe timestamp. */
export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

/** One calendar month later (Stripe's monthly interval), clamped to the month's last day. */
export function addMonth(seconds: number): number {
  const d = new Date(seconds * 1000);
  const day = d.getUTCDate();
  const next = new Date(
    Date.UTC(
      d.getUTCFullYear(),
      d.getUTCMonth() + 1,
      1,
      d.getUTCHours(),
      d.getUTCMinutes(),
      d.getUTCSeconds(),
    ),
  );
  const last = new Date(Date.UTC(next.getUTCFullYear(), next.getUTCMonth() + 1, 0)).getUTCDate();
  next.setUTCDate(Math.min(day, last));
  return Math.floor(next.getTime() / 1000);
}

export const DAY = 86_400;
