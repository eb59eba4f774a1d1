/**
 * The auth port over Supabase Auth (GoTrue), with `@supabase/supabase-js` on the server only.
 *
 * - The session cookie holds the access token and the refresh token (sessionCookie.ts). Every
 *   verification asks Auth (`auth.getUser(accessToken)`); nothing in the cookie is trusted on its
 *   own. The RLS claims are that token's claims, decoded only after Auth accepted it
 *   (supabaseClaims.ts).
 * - Access tokens live about an hour. When Auth refuses one, the refresh token renews the session
 *   once (`auth.refreshSession`), the new token is verified the same way, and the portal writes the
 *   renewed cookie. Two requests renewing at once both succeed within GoTrue's refresh-token reuse
 *   interval (10 s by default); a revoked session fails both steps and counts as signed out.
 * - Emailed links (sign-in link, sign-up confirmation) land on the portal's confirm route with
 *   either `token_hash` and `type` (the email templates recommended for server-side auth, see
 *   auth-server/README.md), redeemed with `auth.verifyOtp`, or a PKCE `code` (the default
 *   templates), redeemed with `auth.exchangeCodeForSession` and the code verifier this server kept
 *   in a short-lived httpOnly cookie (pkceStorage.ts); that only works in the browser that asked.
 * - A fresh client per call: supabase-js saves each session it sees into its client's storage, and
 *   one shared client would hold (and mix up) everyone's. `persistSession: false` except where the
 *   PKCE verifier must be read or seeded: there the storage is this call's own PkceStorage.
 * - The service role key is used only for `auth.admin.deleteUser`.
 */
import {
  type AuthError,
  createClient,
  type EmailOtpType,
  type Session,
  type SupabaseClient,
} from "@supabase/supabase-js";
import {
  AdminApiError,
  IdentityError,
  type IdentityProvider,
  type LinkLanding,
  type PendingSignIn,
  type SignedIn,
  type SignUpResult,
  type VerifiedSession,
} from "./identityProvider.ts";
import { PkceStorage } from "./pkceStorage.ts";
import { decodeSessionCookie, encodeSessionCookie } from "./sessionCookie.ts";
import { ClaimsError, claimsOfVerifiedToken } from "./supabaseClaims.ts";

export interface SupabaseProviderOptions {
  /** The project URL, `https://<ref>.supabase.co`. */
  readonly url: string;
  readonly anonKey: string;
  /** Server-only; needed for account deletion. */
  readonly serviceRoleKey: string | undefined;
}

/**
 * How long the browser keeps the session cookie. The refresh token's real lifetime is Auth's
 * (session time-box and inactivity timeout in the project settings), which Auth enforces on refresh;
 * this only bounds how long an unused browser keeps trying.
 */
export const SESSION_COOKIE_LIFETIME_MS = 30 * 24 * 60 * 60 * 1000;

/** Link types the confirm route redeems: sign-in links and sign-up confirmations. */
const LINK_TYPES: readonly EmailOtpType[] = ["email", "magiclink", "signup"];
const LINK_TOKEN = /^[\w-]{1,300}$/;

/** Auth said no (a 4xx other than rate limiting): the request was understood and refused. */
function isRefusal(error: AuthError): boolean {
  return (
    typeof error.status === "number" && error.status >= 400 && error.status < 500 && error.status !== 429
  );
}

function isRateLimited(error: AuthError): boolean {
  return error.status === 429 || (error.code?.startsWith("over_") ?? false);
}

/** `<confirm route>?next=<path>`: Supabase appends its own parameters (`code`, or the template's). */
export function redirectUrl(landing: LinkLanding): string {
  return `${landing.confirmUrl}?next=${encodeURIComponent(landing.next)}`;
}

export class SupabaseProvider implements IdentityProvider {
  readonly name = "supabase";
  readonly #options: SupabaseProviderOptions;

  constructor(options: SupabaseProviderOptions) {
    this.#options = { ...options, url: options.url.replace(/\/$/, "") };
  }

  #client(storage?: PkceStorage): SupabaseClient {
    const common = { autoRefreshToken: false, detectSessionInUrl: false, flowType: "pkce" } as const;
    return createClient(this.#options.url, this.#options.anonKey, {
      auth: storage ? { ...common, persistSession: true, storage } : { ...common, persistSession: false },
    });
  }

  #signedIn(session: Session): SignedIn {
    const { user } = session;
    if (!user.email) throw new IdentityError("rejected", "this account has no email address");
    const name: unknown = user.user_metadata?.display_name;
    return {
      userId: user.id,
      email: user.email,
      ...(typeof name === "string" && name ? { displayName: name } : {}),
      sessionToken: encodeSessionCookie({
        accessToken: session.access_token,
        refreshToken: session.refresh_token,
      }),
      cookieExpiresAt: new Date(Date.now() + SESSION_COOKIE_LIFETIME_MS),
    };
  }

  async signUp(
    email: string,
    password: string,
    options: { landing: LinkLanding; displayName?: string },
  ): Promise<SignUpResult> {
    const storage = new PkceStorage();
    const { data, error } = await this.#client(storage).auth.signUp({
      email: email.trim().toLowerCase(),
      password,
      options: {
        emailRedirectTo: redirectUrl(options.landing),
        data: options.displayName ? { display_name: options.displayName } : {},
      },
    });
    if (error) {
      if (error.code === "user_already_exists" || error.code === "email_exists")
        throw new IdentityError("account-exists", "an account with this email already exists", {
          cause: error,
        });
      if (isRateLimited(error))
        throw new IdentityError("rate-limited", "too many attempts: try again in a minute", { cause: error });
      if (isRefusal(error)) throw new IdentityError("rejected", error.message, { cause: error });
      throw error;
    }
    // With "Confirm email" on, Auth answers without a session (and, for an address that already has
    // an account, with an obfuscated user): the link in the email finishes the sign-up.
    if (data.session) return { status: "signed-in", signedIn: this.#signedIn(data.session) };
    return { status: "confirm-email", pending: storage.pending() };
  }

  async signInWithPassword(email: string, password: string): Promise<SignedIn> {
    const { data, error } = await this.#client().auth.signInWithPassword({
      email: email.trim().toLowerCase(),
      password,
    });
    if (error) {
      if (error.code === "email_not_confirmed")
        throw new IdentityError("rejected", "Confirm your email address first: open the link we sent you.", {
          cause: error,
        });
      if (isRateLimited(error))
        throw new IdentityError("rate-limited", "too many attempts: try again in a minute", { cause: error });
      if (error.code === "invalid_credentials" || error.status === 400)
        throw new IdentityError("invalid-credentials", "email or password is incorrect", { cause: error });
      throw error;
    }
    if (!data.session) throw new IdentityError("rejected", "Auth returned no session");
    return this.#signedIn(data.session);
  }

  async sendMagicLink(email: string, landing: LinkLanding): Promise<PendingSignIn> {
    const storage = new PkceStorage();
    const { error } = await this.#client(storage).auth.signInWithOtp({
      email: email.trim().toLowerCase(),
      // A sign-in link, never a sign-up: unknown addresses are refused (and the portal says nothing).
      options: { shouldCreateUser: false, emailRedirectTo: redirectUrl(landing) },
    });
    if (error) {
      if (isRateLimited(error))
        throw new IdentityError("rate-limited", "too many sign-in emails: try again in a minute", {
          cause: error,
        });
      if (isRefusal(error)) throw new IdentityError("rejected", error.message, { cause: error });
      throw error;
    }
    return storage.pending();
  }

  async completeMagicLink(query: URLSearchParams, pending: PendingSignIn): Promise<SignedIn> {
    if (query.has("error") || query.has("error_code"))
      throw new IdentityError("rejected", query.get("error_description") ?? "Auth refused the link");
    const tokenHash = query.get("token_hash");
    const code = query.get("code");
    let session: Session | null;
    if (tokenHash !== null) {
      const type = query.get("type") ?? "";
      if (!LINK_TOKEN.test(tokenHash) || !LINK_TYPES.includes(type))
        throw new IdentityError("rejected", "the sign-in link is malformed");
      const { data, error } = await this.#client().auth.verifyOtp({ token_hash: tokenHash, type });
      if (error) throw new IdentityError("rejected", error.message, { cause: error });
      session = data.session;
    } else if (code !== null && LINK_TOKEN.test(code)) {
      const { data, error } = await this.#client(new PkceStorage(pending)).auth.exchangeCodeForSession(code);
      if (error) throw new IdentityError("rejected", error.message, { cause: error });
      session = data.session;
    } else {
      throw new IdentityError("rejected", "the sign-in link is malformed");
    }
    if (!session) throw new IdentityError("rejected", "Auth returned no session");
    return this.#signedIn(session);
  }

  /** `getUser` on the access token; only then its claims. Null when Auth refuses it. */
  async #verifyAccessToken(accessToken: string): Promise<VerifiedSession | null> {
    const { data, error } = await this.#client().auth.getUser(accessToken);
    if (error) {
      if (isRefusal(error)) return null;
      throw error;
    }
    try {
      return claimsOfVerifiedToken(data.user, accessToken);
    } catch (problem) {
      if (problem instanceof ClaimsError) return null;
      throw problem;
    }
  }

  async #refresh(refreshToken: string): Promise<Session | null> {
    const { data, error } = await this.#client().auth.refreshSession({ refresh_token: refreshToken });
    if (error) {
      if (isRefusal(error)) return null;
      throw error;
    }
    return data.session;
  }

  async verifySession(sessionToken: string): Promise<VerifiedSession | null> {
    const tokens = decodeSessionCookie(sessionToken);
    if (!tokens) return null;
    const current = await this.#verifyAccessToken(tokens.accessToken);
    if (current) return current;
    // Refused: usually expired. Renew once with the refresh token (fails too if the session was revoked).
    const session = await this.#refresh(tokens.refreshToken);
    if (!session) return null;
    const renewed = await this.#verifyAccessToken(session.access_token);
    if (!renewed) return null;
    const signed = this.#signedIn(session);
    return {
      ...renewed,
      renewed: { sessionToken: signed.sessionToken, cookieExpiresAt: signed.cookieExpiresAt },
    };
  }

  /**
   * `updateUser({ password })` on this session. With "Secure password change" on, Auth refuses a
   * session older than 24 hours (`reauthentication_needed`): the person signs in again first.
   */
  async changePassword(sessionToken: string, password: string): Promise<void> {
    const tokens = decodeSessionCookie(sessionToken);
    if (!tokens) throw new IdentityError("sign-in-again", "no session to change the password of");
    const client = this.#client();
    const session = await client.auth.setSession({
      access_token: tokens.accessToken,
      refresh_token: tokens.refreshToken,
    });
    if (session.error) {
      if (isRefusal(session.error))
        throw new IdentityError("sign-in-again", session.error.message, { cause: session.error });
      throw session.error;
    }
    const { error } = await client.auth.updateUser({ password });
    if (!error) return;
    if (error.code === "reauthentication_needed" || error.code === "session_not_found")
      throw new IdentityError("sign-in-again", error.message, { cause: error });
    if (isRateLimited(error))
      throw new IdentityError("rate-limited", "too many attempts: try again in a minute", { cause: error });
    if (isRefusal(error)) throw new IdentityError("rejected", error.message, { cause: error });
    throw error;
  }

  /** Ends this session only (scope `local`), like signing out of Kratos. */
  async signOut(sessionToken: string): Promise<void> {
    const tokens = decodeSessionCookie(sessionToken);
    if (!tokens) return;
    const { error } = await this.#client().auth.admin.signOut(tokens.accessToken, "local");
    if (!error) return;
    if (!isRefusal(error)) throw error;
    // The access token had expired: renew it to name the session, then end it.
    const session = await this.#refresh(tokens.refreshToken);
    if (!session) return;
    const again = await this.#client().auth.admin.signOut(session.access_token, "local");
    if (again.error) throw again.error;
  }

  async deleteUser(userId: string): Promise<void> {
    const { url, serviceRoleKey } = this.#options;
    if (!serviceRoleKey)
      throw new AdminApiError("SUPABASE_SERVICE_ROLE_KEY is not set: the admin API is needed");
    const admin = createClient(url, serviceRoleKey, {
      auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false },
    });
    const { error } = await admin.auth.admin.deleteUser(userId);
    if (error && error.status !== 404)
      throw new AdminApiError(`the identity server refused the deletion (HTTP ${error.status ?? "none"})`);
  }
}
