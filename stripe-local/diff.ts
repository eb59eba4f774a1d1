/**
 * `data.previous_attributes` of an `*.updated` event: the old values of what
 * changed. Hashes without an `object` (metadata, cancellation_details) are
 * compared key by key, as Stripe reports them; everything else (lists, scalars)
 * is reported whole.
 */

function isHash(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v) && !("object" in v);
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

export function previousAttributes(
  before: Record<string, unknown>,
  after: Record<string, unknown>,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of new Set([...Object.keys(before), ...Object.keys(after)])) {
    const old = before[key];
    const now = after[key];
    if (same(old, now)) continue;
    if (isHash(old) && isHash(now)) out[key] = previousAttributes(old, now);
    else out[key] = old === undefined ? null : structuredClone(old);
  }
  return out;
}
