/**
 * The JWT secret of the local auth server and the API keys minted from it,
 * the way Supabase does: one HS256 secret signs the user access tokens and the
 * long-lived `anon` and `service_role` keys, whose only meaningful claim is
 * `role`. The secret is generated once into the data folder (0600) and never
 * logged.
 */
import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { jwtVerify, SignJWT } from "jose";
import { z } from "zod";

/** The key id the tokenizer puts in the header of every user token. */
export const JWT_KEY_ID = "mindroom-local-hs256";
/** Supabase's lower bound for a JWT secret. */
const MIN_SECRET_LENGTH = 32;
const TEN_YEARS_S = 10 * 365 * 24 * 3600;

export class AuthKeysError extends Error {
  override readonly name = "AuthKeysError";
}

export interface ApiKeys {
  /** The public key browsers send (`SUPABASE_ANON_KEY`). */
  readonly anonKey: string;
  /** Server-only key that bypasses RLS (`SUPABASE_SERVICE_ROLE_KEY`). Never send it to a browser. */
  readonly serviceRoleKey: string;
}

/** The secret from `path`, created (random, 0600) when the file does not exist yet. */
export function loadOrCreateJwtSecret(path: string): string {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  if (!existsSync(path))
    writeFileSync(path, randomBytes(40).toString("base64url"), { mode: 0o600, flag: "wx" });
  chmodSync(path, 0o600);
  return checkedSecret(readFileSync(path, "utf8").trim(), path);
}

export function checkedSecret(secret: string, source: string): string {
  if (secret.length < MIN_SECRET_LENGTH)
    throw new AuthKeysError(
      `the JWT secret from ${source} has ${secret.length} characters; use at least ${MIN_SECRET_LENGTH}`,
    );
  return secret;
}

/** A JWK set holding the secret as an HS256 signing key (what the identity server's tokenizer reads). */
export function hs256Jwks(secret: string): { keys: Array<Record<string, string>> } {
  return {
    keys: [
      {
        kty: "oct",
        k: Buffer.from(secret, "utf8").toString("base64url"),
        alg: "HS256",
        use: "sig",
        kid: JWT_KEY_ID,
      },
    ],
  };
}

async function mint(secret: string, role: "anon" | "service_role", issuedAt: number): Promise<string> {
  return new SignJWT({ role })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setIssuer("supabase")
    .setIssuedAt(issuedAt)
    .setExpirationTime(issuedAt + TEN_YEARS_S)
    .sign(new TextEncoder().encode(secret));
}

/** The anon and service_role keys for `secret` (same `iat` for both, as Supabase issues them). */
export async function mintApiKeys(
  secret: string,
  issuedAt = Math.floor(Date.now() / 1000),
): Promise<ApiKeys> {
  return {
    anonKey: await mint(secret, "anon", issuedAt),
    serviceRoleKey: await mint(secret, "service_role", issuedAt),
  };
}

const apiKeyClaims = z.object({ role: z.enum(["anon", "service_role", "authenticated"]) }).loose();
export type ApiKeyRole = z.infer<typeof apiKeyClaims>["role"];

/** The role of a key or token signed with `secret`, or undefined when it is not one of ours. */
export async function roleOfKey(secret: string, token: string): Promise<ApiKeyRole | undefined> {
  try {
    const { payload } = await jwtVerify(token, new TextEncoder().encode(secret), { algorithms: ["HS256"] });
    return apiKeyClaims.parse(payload).role;
  } catch {
    return undefined;
  }
}
