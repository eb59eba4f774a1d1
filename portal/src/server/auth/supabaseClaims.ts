/**
 * The RLS claims of a Supabase session: the access token's own claims (`sub`, `role`, `email`,
 * `session_id`, `aal`, `exp`, …), read only once Supabase Auth has accepted that token
 * (`auth.getUser(accessToken)` answered with `user`). The payload is decoded, not verified, here:
 * callers must have had it verified first. It must also belong to the user Auth returned, carry
 * `role: authenticated` and an expiry; anything else is refused.
 */
import { z } from "zod";
import type { VerifiedClaims } from "./identityProvider.ts";

/** The parts of the verified user that matter here (supabase-js `User`). */
export interface VerifiedUser {
  readonly id: string;
  readonly email?: string | undefined;
  readonly is_anonymous?: boolean | undefined;
}

export interface SessionClaims {
  readonly userId: string;
  readonly email: string;
  readonly claims: VerifiedClaims;
  /** The access token's `exp`, in epoch milliseconds. */
  readonly expiresAt: number;
}

export class ClaimsError extends Error {
  override readonly name = "ClaimsError";
}

const payloadSchema = z.looseObject({
  sub: z.string().min(1),
  role: z.string(),
  exp: z.number(),
  email: z.string().optional(),
});

/** The JSON payload of a JWT (the middle segment), without checking the signature. */
export function decodeJwtPayload(token: string): Record<string, unknown> {
  const segment = token.split(".")[1];
  if (!segment || token.split(".").length !== 3) throw new ClaimsError("the access token is not a JWT");
  let payload: unknown;
  try {
    payload = JSON.parse(Buffer.from(segment, "base64url").toString("utf8"));
  } catch {
    throw new ClaimsError("the access token's payload is not JSON");
  }
  if (typeof payload !== "object" || payload === null || Array.isArray(payload))
    throw new ClaimsError("the access token's payload is not an object");
  return payload as Record<string, unknown>;
}

/** Claims for `withUser`, from a token Supabase Auth has just accepted for `user`. */
export function claimsOfVerifiedToken(user: VerifiedUser, accessToken: string): SessionClaims {
  const parsed = payloadSchema.safeParse(decodeJwtPayload(accessToken));
  if (!parsed.success) throw new ClaimsError("the access token lacks sub, role or exp");
  const payload = parsed.data;
  if (payload.sub !== user.id) throw new ClaimsError("the access token belongs to another user");
  if (payload.role !== "authenticated") throw new ClaimsError("the access token is not a signed-in user's");
  // Anonymous Supabase users (signInAnonymously with the public key) have no account here.
  if (user.is_anonymous === true || payload.is_anonymous === true || !user.email)
    throw new ClaimsError("the user has no email address (anonymous sign-in)");
  return {
    userId: user.id,
    email: user.email,
    claims: { ...payload, sub: payload.sub, role: payload.role, email: payload.email ?? user.email },
    expiresAt: payload.exp * 1000,
  };
}
