/**
 * A short-lived memory of sessions the identity server has confirmed, so a burst of requests from
 * one person costs one `whoami`, not one each. Entries live `ttlMs` (default 10 s) at most and never
 * past the session's own expiry; sign-out forgets the token at once. Revocation elsewhere (an admin
 * deleting the identity) therefore takes effect within `ttlMs` — far less than the hour a Supabase
 * access token verified offline with getClaims() stays valid. Keys are SHA-256 digests: raw tokens
 * are not kept. Only confirmed sessions are remembered; an unknown token is asked about every time.
 */
import { createHash } from "node:crypto";

interface Entry<T> {
  readonly value: T;
  readonly until: number;
}

export class VerifiedSessions<T> {
  readonly #entries = new Map<string, Entry<T>>();
  readonly #ttlMs: number;
  readonly #max: number;

  constructor(options: { ttlMs?: number; max?: number } = {}) {
    this.#ttlMs = options.ttlMs ?? 10_000;
    this.#max = options.max ?? 10_000;
  }

  static key(token: string): string {
    return createHash("sha256").update(token).digest("base64url");
  }

  async get(token: string, verify: () => Promise<{ value: T | null; until: number }>): Promise<T | null> {
    const key = VerifiedSessions.key(token);
    const now = Date.now();
    const hit = this.#entries.get(key);
    if (hit && hit.until > now) return hit.value;
    this.#entries.delete(key);
    const { value, until } = await verify();
    if (value === null) return null;
    if (this.#entries.size >= this.#max) {
      // Oldest first: Map keeps insertion order.
      const oldest = this.#entries.keys().next().value;
      if (oldest !== undefined) this.#entries.delete(oldest);
    }
    this.#entries.set(key, { value, until: Math.min(until, now + this.#ttlMs) });
    return value;
  }

  forget(token: string): void {
    this.#entries.delete(VerifiedSessions.key(token));
  }
}
