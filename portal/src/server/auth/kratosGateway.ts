/**
 * The auth port over the local auth server (auth-server/: Ory Kratos behind a gateway at
 * `SUPABASE_URL/auth/v1`, because Supabase Auth could not be built here; see auth-server/README.md),
 * spoken to through its own client, auth-server/client.ts. Used in development and in the tests.
 *
 * The session cookie holds Kratos's opaque session token as it is; verification asks `whoami`.
 * Magic links carry the login flow id and the email, and end in `code=` so Kratos's mail template
 * appends the code.
 */
import { AuthClient, AuthClientError } from "../../../../auth-server/client.ts";
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

/** Kratos message ids the portal explains in its own words. */
const WRONG_CREDENTIALS = 4000006;
const ACCOUNT_EXISTS = 4000007;

export interface KratosGatewayOptions {
  /** The gateway's base, `<SUPABASE_URL>` (the API is under `/auth/v1`). */
  readonly supabaseUrl: string;
  /** For the admin API (account deletion); optional until an account is deleted. */
  readonly serviceRoleKey: string | undefined;
}

function signedIn(signed: {
  sessionToken: string;
  session: { expires_at: string; identity: { id: string; traits: { email: string } } };
}): SignedIn {
  const expires = new Date(signed.session.expires_at);
  return {
    userId: signed.session.identity.id,
    email: signed.session.identity.traits.email,
    sessionToken: signed.sessionToken,
    cookieExpiresAt: Number.isNaN(expires.getTime()) ? undefined : expires,
  };
}

export class KratosGatewayProvider implements IdentityProvider {
  readonly name = "local";
  readonly #client: AuthClient;
  readonly #options: KratosGatewayOptions;

  constructor(options: KratosGatewayOptions) {
    this.#options = options;
    this.#client = new AuthClient({ authUrl: `${options.supabaseUrl}/auth/v1` });
  }

  /** Kratos signs new accounts in at once (email autoconfirm): there is never a link to wait for. */
  async signUp(email: string, password: string): Promise<SignUpResult> {
    try {
      return { status: "signed-in", signedIn: signedIn(await this.#client.signUp(email, password)) };
    } catch (error) {
      if (error instanceof AuthClientError) {
        if (error.messageIds.includes(ACCOUNT_EXISTS))
          throw new IdentityError("account-exists", "an account with this email already exists", {
            cause: error,
          });
        // The identity server's own password policy (e.g. a breached or too-similar password).
        if (error.status === 400)
          throw new IdentityError("rejected", error.message.replace(/^sign-up failed: /, ""), {
            cause: error,
          });
      }
      throw error;
    }
  }

  async signInWithPassword(email: string, password: string): Promise<SignedIn> {
    try {
      return signedIn(await this.#client.signInWithPassword(email, password));
    } catch (error) {
      if (
        error instanceof AuthClientError &&
        (error.messageIds.includes(WRONG_CREDENTIALS) || error.status === 400)
      )
        throw new IdentityError("invalid-credentials", "email or password is incorrect", { cause: error });
      throw error;
    }
  }

  async sendMagicLink(email: string, landing: LinkLanding): Promise<PendingSignIn> {
    try {
      await this.#client.sendSignInCode(
        email,
        (flow) =>
          `${landing.confirmUrl}?flow=${encodeURIComponent(flow)}&email=${encodeURIComponent(email)}&next=${encodeURIComponent(landing.next)}&code=`,
      );
    } catch (error) {
      // 400: no such account (or no code method for it).
      if (error instanceof AuthClientError && error.status === 400)
        throw new IdentityError("rejected", "no sign-in code could be sent", { cause: error });
      throw error;
    }
    return undefined;
  }

  async completeMagicLink(query: URLSearchParams): Promise<SignedIn> {
    const flow = query.get("flow") ?? "";
    const email = query.get("email") ?? "";
    const code = query.get("code") ?? "";
    if (!/^[\w-]{1,100}$/.test(flow) || !/^\d{4,12}$/.test(code) || !email.includes("@"))
      throw new IdentityError("rejected", "the sign-in link is malformed");
    return signedIn(await this.#client.signInWithCode(flow, email, code));
  }

  async changePassword(sessionToken: string, password: string): Promise<void> {
    try {
      await this.#client.changePassword(sessionToken, password);
    } catch (error) {
      if (error instanceof AuthClientError) {
        if (error.errorId === "session_refresh_required")
          throw new IdentityError("sign-in-again", "the session is too old to change the password", {
            cause: error,
          });
        // The password policy (too short, too similar to the email, …).
        if (error.status === 400)
          throw new IdentityError("rejected", error.message.replace(/^changing the password failed: /, ""), {
            cause: error,
          });
      }
      throw error;
    }
  }

  async verifySession(sessionToken: string): Promise<VerifiedSession | null> {
    const session = await this.#client.getSession(sessionToken);
    const expires = session ? new Date(session.expires_at).getTime() : 0;
    if (!session?.active || expires <= Date.now()) return null;
    return {
      userId: session.identity.id,
      email: session.identity.traits.email,
      claims: {
        sub: session.identity.id,
        role: "authenticated",
        email: session.identity.traits.email,
        session_id: session.id,
      },
      expiresAt: expires,
    };
  }

  async signOut(sessionToken: string): Promise<void> {
    await this.#client.signOut(sessionToken);
  }

  /** The gateway's admin route (`DELETE /auth/v1/admin/identities/:id`, service role key). */
  async deleteUser(userId: string): Promise<void> {
    const { supabaseUrl, serviceRoleKey } = this.#options;
    if (!serviceRoleKey)
      throw new AdminApiError("SUPABASE_SERVICE_ROLE_KEY is not set: the admin API is needed");
    const answer = await fetch(`${supabaseUrl}/auth/v1/admin/identities/${encodeURIComponent(userId)}`, {
      method: "DELETE",
      headers: { apikey: serviceRoleKey, authorization: `Bearer ${serviceRoleKey}` },
    });
    if (answer.status !== 204 && answer.status !== 200 && answer.status !== 404) {
      throw new AdminApiError(`the identity server refused the deletion (HTTP ${answer.status})`);
    }
  }
}
