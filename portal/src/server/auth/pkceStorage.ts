/**
 * Storage for one supabase-js client on the server, so a PKCE code verifier can travel from the
 * request that sent an emailed link to the request that redeems it: after `signInWithOtp`/`signUp`,
 * `pending()` is the verifier state (for a short-lived httpOnly cookie); on the confirm route the
 * storage is seeded with it again before `exchangeCodeForSession`. Sessions supabase-js saves here
 * are thrown away with the storage: the portal keeps sessions in its own cookie (sessionCookie.ts).
 */
import type { SupportedStorage } from "@supabase/supabase-js";
import { z } from "zod";

const pendingSchema = z.record(z.string().max(200), z.string().max(1000));
/** supabase-js names its verifier entries `<storage key>-[flow-<id>-]code-verifier` and `…-flows-code-verifier`. */
const isVerifierKey = (key: string) => key.endsWith("code-verifier");

export class PkceStorage implements SupportedStorage {
  readonly #items = new Map<string, string>();
  /** The values come from a request cookie, not from a trusted store. */
  readonly isServer = true;

  /** Seeded from `pending()` of an earlier request; a malformed value seeds nothing. */
  constructor(pending?: string) {
    if (!pending || pending.length > 4000) return;
    let entries: unknown;
    try {
      entries = JSON.parse(Buffer.from(pending, "base64url").toString("utf8"));
    } catch {
      return;
    }
    const parsed = pendingSchema.safeParse(entries);
    if (!parsed.success) return;
    for (const [key, value] of Object.entries(parsed.data))
      if (isVerifierKey(key)) this.#items.set(key, value);
  }

  getItem(key: string): string | null {
    return this.#items.get(key) ?? null;
  }

  setItem(key: string, value: string): void {
    this.#items.set(key, value);
  }

  removeItem(key: string): void {
    this.#items.delete(key);
  }

  /** The code verifier state to bring back with the link, or undefined when there is none. */
  pending(): string | undefined {
    const verifiers = [...this.#items].filter(([key]) => isVerifierKey(key));
    if (verifiers.length === 0) return undefined;
    return Buffer.from(JSON.stringify(Object.fromEntries(verifiers))).toString("base64url");
  }
}
