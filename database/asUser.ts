/**
 * Runs queries as a signed-in person, the way PostgREST does on Supabase: in a
 * transaction, with the role switched (`set local role authenticated`, or
 * `anon` without a `sub`) and the verified JWT claims in `request.jwt.claims`,
 * so `auth.uid()` and the RLS policies see that person. This is how the portal
 * reads customer data and how the RLS tests prove the policies: a superuser or
 * service-role connection would bypass RLS entirely.
 *
 * The role comes from the presence of `sub`, never from a `role` claim, so no
 * claim can lift a connection to `service_role`.
 */
import type pg from "pg";
import { z } from "zod";
import { transaction } from "./transaction.ts";

/** Verified JWT claims (Supabase: `sub`, `role`, `email`, `aal`, `session_id`, …). */
export interface JwtClaims {
  readonly sub?: string;
  readonly role?: string;
  readonly email?: string;
  readonly [claim: string]: unknown;
}

export class WithUserError extends Error {
  override readonly name = "WithUserError";
}

// Any 8-4-4-4-12 hex id: Postgres casts it to uuid; stricter version checks would refuse test ids.
const subject = z.guid();

export async function withUser<T>(
  pool: pg.Pool,
  claims: JwtClaims,
  fn: (client: pg.PoolClient) => Promise<T>,
): Promise<T> {
  if (claims.sub !== undefined && !subject.safeParse(claims.sub).success)
    throw new WithUserError("JWT claim sub must be a user id (uuid); refusing to query with it");
  const role = claims.sub === undefined ? "anon" : "authenticated";
  return transaction(pool, async (client) => {
    // One round trip, as PostgREST does: `set_config('role', …, true)` is `set local role …`.
    // Both are transaction-local: nothing leaks to the pooled connection's next user.
    await client.query("select set_config('role', $1, true), set_config('request.jwt.claims', $2, true)", [
      role,
      JSON.stringify({ ...claims, role }),
    ]);
    return fn(client);
  });
}
