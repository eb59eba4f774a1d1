/**
 * Verifies a user access token the way Supabase's servers do with the legacy
 * HS256 secret: signature, expiry and `aud: authenticated`, then hands back
 * the claims that `auth.uid()` / `auth.jwt()` read in Postgres.
 */
import { jwtVerify } from "jose";
import { z } from "zod";

export class AccessTokenError extends Error {
  override readonly name = "AccessTokenError";
}

const claimsSchema = z
  .object({
    sub: z.uuid(),
    role: z.literal("authenticated"),
    aud: z.union([
      z.literal("authenticated"),
      z.array(z.string()).refine((aud) => aud.includes("authenticated")),
    ]),
    email: z.string(),
    exp: z.number(),
    iat: z.number(),
    session_id: z.string().optional(),
  })
  .loose();

export type AccessTokenClaims = z.infer<typeof claimsSchema>;

export async function verifyAccessToken(token: string, jwtSecret: string): Promise<AccessTokenClaims> {
  try {
    const { payload } = await jwtVerify(token, new TextEncoder().encode(jwtSecret), {
      algorithms: ["HS256"],
      audience: "authenticated",
    });
    return claimsSchema.parse(payload);
  } catch (error) {
    throw new AccessTokenError(
      `the access token is not valid (${(error as Error).message}); sign in again to get a fresh one`,
    );
  }
}
