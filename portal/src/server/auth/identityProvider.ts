/**
 * The auth port: everything the portal asks of an identity server, and nothing more. Two adapters
 * implement it: `kratosGateway.ts` (the local auth server, auth-server/, in development and tests)
 * and `supabase.ts` (Supabase Auth in production). `provider.ts` picks one from the settings.
 *
 * A session is an opaque string to the portal (`sessionToken`): it lives only in the httpOnly
 * session cookie and is handed back to the adapter, which alone knows what is inside it.
 */

/** The verified JWT claims that `withUser` hands to Postgres as `request.jwt.claims` (RLS). */
export interface VerifiedClaims {
  readonly sub: string;
  readonly role: string;
  readonly email?: string;
  readonly [claim: string]: unknown;
}

/** A session the identity server has just started (sign-up, sign-in, confirmed link). */
export interface SignedIn {
  readonly userId: string;
  readonly email: string;
  /** A display name the person gave at sign-up, if the identity server kept it for us. */
  readonly displayName?: string;
  /** The session cookie's value. A secret: never log it. */
  readonly sessionToken: string;
  /** When the cookie should expire; undefined makes it a browser-session cookie. */
  readonly cookieExpiresAt: Date | undefined;
}

/**
 * Where emailed links land: the portal's confirm route (`<public url>/auth/confirm`) and the
 * same-site path to continue to once the link has been redeemed.
 */
export interface LinkLanding {
  readonly confirmUrl: string;
  readonly next: string;
}

/**
 * State a browser must bring back with the emailed link (Supabase PKCE: the code verifier). The
 * portal keeps it in a short-lived httpOnly cookie; undefined when the adapter needs none.
 */
export type PendingSignIn = string | undefined;

export type SignUpResult =
  | { readonly status: "signed-in"; readonly signedIn: SignedIn }
  /** The identity server wants the address confirmed first; the link lands on `landing`. */
  | { readonly status: "confirm-email"; readonly pending: PendingSignIn };

/** A session the identity server confirmed for this request. */
export interface VerifiedSession {
  readonly userId: string;
  readonly email: string;
  readonly claims: VerifiedClaims;
  /** Epoch milliseconds after which this verification must not be reused. */
  readonly expiresAt: number;
  /** Set when the adapter had to renew the session (Supabase refresh): the new cookie value. */
  readonly renewed?: { readonly sessionToken: string; readonly cookieExpiresAt: Date | undefined };
}

export interface IdentityProvider {
  /** `local` (the Kratos gateway) or `supabase`. */
  readonly name: "local" | "supabase";
  /** Creates an account. Throws IdentityError `account-exists`, `rejected`, `rate-limited`. */
  signUp(
    email: string,
    password: string,
    options: { landing: LinkLanding; displayName?: string },
  ): Promise<SignUpResult>;
  /** Throws IdentityError `invalid-credentials` (and `rejected`, `rate-limited` on Supabase). */
  signInWithPassword(email: string, password: string): Promise<SignedIn>;
  /**
   * Emails a one-time sign-in link to an existing account (never creates one). Throws IdentityError
   * when the identity server refuses (unknown address included), which callers must not reveal.
   */
  sendMagicLink(email: string, landing: LinkLanding): Promise<PendingSignIn>;
  /** Redeems an emailed link from the confirm route's query string. Throws on a bad or used link. */
  completeMagicLink(query: URLSearchParams, pending: PendingSignIn): Promise<SignedIn>;
  /**
   * Sets a new password for the session's person. Identity servers allow it only shortly after
   * signing in (Kratos's privileged session, Supabase's secure password change): otherwise it throws
   * IdentityError `sign-in-again`; a password the server's policy refuses throws `rejected`.
   */
  changePassword(sessionToken: string, password: string): Promise<void>;
  /** Asks the identity server about a session cookie; null when it is invalid, expired or revoked. */
  verifySession(sessionToken: string): Promise<VerifiedSession | null>;
  /** Revokes the session on the identity server. */
  signOut(sessionToken: string): Promise<void>;
  /** Deletes the person's identity with the admin API (service role key, server only). 404 is success. */
  deleteUser(userId: string): Promise<void>;
}

export type IdentityErrorKind =
  | "invalid-credentials"
  | "account-exists"
  | "rejected"
  | "rate-limited"
  /** The session is too old for this (a password change): sign in again, then retry. */
  | "sign-in-again";

/**
 * An expected refusal, in words the portal can show. Anything else an adapter throws is unexpected
 * and surfaces as a server error.
 */
export class IdentityError extends Error {
  override readonly name = "IdentityError";
  readonly kind: IdentityErrorKind;
  constructor(kind: IdentityErrorKind, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.kind = kind;
  }
}

export class AdminApiError extends Error {
  override readonly name = "AdminApiError";
}
