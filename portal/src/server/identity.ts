/**
 * Who is asking, verified on the server for every read and write. Middleware does not run on
 * client-side navigations, so each server function and API route calls `requireIdentity` (or
 * `requireOperator`) itself; the result is memoised on the request so one request verifies once.
 * Verification asks the identity server about the session from the httpOnly cookie (the auth
 * port's `verifySession`: Kratos `whoami`, or supabase-js `getUser()` with a refresh when the access
 * token has expired); nothing in the cookie is trusted on its own.
 */
import { redirect } from "@solidjs/router";
import { getRequestEvent } from "solid-js/web";
import type { VerifiedClaims } from "./auth/identityProvider.ts";
import { identityProvider } from "./auth/provider.ts";
import { forgetSession, sessionToken, storeSession } from "./authSession.ts";
import { asPerson } from "./database.ts";
import { DEFAULT_PAGE, signInFor } from "./redirects.ts";
import { VerifiedSessions } from "./verifiedSessions.ts";

export type { VerifiedClaims } from "./auth/identityProvider.ts";

export interface Identity {
  readonly userId: string;
  readonly email: string;
  readonly claims: VerifiedClaims;
}

/** Thrown by API routes' guards; rendered as 401/403 JSON. */
export class AccessDeniedError extends Error {
  override readonly name = "AccessDeniedError";
  readonly status: 401 | 403;
  constructor(status: 401 | 403, message: string) {
    super(message);
    this.status = status;
  }
}

const NONE = Symbol("no identity");

/** Sessions the identity server confirmed in the last few seconds (see verifiedSessions.ts). */
export const verifiedSessions = new VerifiedSessions<Identity>();
/** The operator role per user, re-read from the database at most every 10 s. */
const operatorRoles = new VerifiedSessions<boolean>();

export async function optionalIdentity(): Promise<Identity | null> {
  const event = getRequestEvent();
  const memo = event?.locals.identity as Identity | typeof NONE | undefined;
  if (memo !== undefined) return memo === NONE ? null : memo;
  const token = sessionToken();
  const identity = token ? await verifiedSessions.get(token, () => verify(token)) : null;
  if (event) event.locals.identity = identity ?? NONE;
  return identity;
}

async function verify(token: string): Promise<{ value: Identity | null; until: number }> {
  const session = await identityProvider().verifySession(token);
  if (!session || session.expiresAt <= Date.now()) return { value: null, until: 0 };
  // The adapter renewed an expired session (Supabase refresh): the browser gets the new cookie.
  if (session.renewed) storeSession(session.renewed.sessionToken, session.renewed.cookieExpiresAt);
  return {
    value: { userId: session.userId, email: session.email, claims: session.claims },
    until: session.expiresAt,
  };
}

/** The page to come back to after signing in: this page, or for a server function the page it came from. */
function here(): string {
  const event = getRequestEvent();
  if (!event) return DEFAULT_PAGE;
  const url = new URL(event.request.url);
  if (!url.pathname.startsWith("/_server")) return url.pathname + url.search;
  // Server-function calls carry the page they came from in the Referer.
  const referer = event.request.headers.get("referer");
  if (!referer || !URL.canParse(referer)) return DEFAULT_PAGE;
  const from = new URL(referer);
  return from.pathname + from.search;
}

/** The signed-in person, or a redirect to the sign-in page (pages and server functions). */
export async function requireIdentity(): Promise<Identity> {
  const identity = await optionalIdentity();
  if (!identity) throw redirect(signInFor(here()));
  return identity;
}

/** Whether this person holds the operator role (`public.is_operator()`, evaluated under RLS). */
export async function isOperator(identity: Identity): Promise<boolean> {
  const event = getRequestEvent();
  const memo = event?.locals.operator as boolean | undefined;
  if (memo !== undefined) return memo;
  const operator =
    (await operatorRoles.get(identity.userId, async () => ({
      value: await asPerson(identity.claims, async (db) => {
        const { rows } = await db.query<{ operator: boolean }>("select public.is_operator() as operator");
        return rows[0]?.operator === true;
      }),
      until: Number.POSITIVE_INFINITY,
    }))) === true;
  if (event) event.locals.operator = operator;
  return operator;
}

/** An operator, or a redirect: customers are sent to their dashboard, strangers to sign in. */
export async function requireOperator(): Promise<Identity> {
  const identity = await requireIdentity();
  if (!(await isOperator(identity))) throw redirect("/dashboard");
  return identity;
}

/** For API routes: the identity or an AccessDeniedError (401 signed out, 403 not an operator). */
export async function apiIdentity(options: { operator?: boolean } = {}): Promise<Identity> {
  const identity = await optionalIdentity();
  if (!identity) throw new AccessDeniedError(401, "sign in first");
  if (options.operator && !(await isOperator(identity))) throw new AccessDeniedError(403, "operators only");
  return identity;
}

/** Ends the signed-in session: forgotten by the cache and the identity server, cookie cleared. */
export async function endSession(): Promise<void> {
  const token = sessionToken();
  if (token) {
    verifiedSessions.forget(token);
    await identityProvider()
      .signOut(token)
      .catch(() => undefined);
  }
  forgetSession();
}
