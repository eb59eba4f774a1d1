/**
 * The signed-in session, kept server-side: the identity server's session (an opaque value only the
 * auth adapter reads, see auth/identityProvider.ts) lives only in an httpOnly, SameSite=Lax (and
 * Secure) cookie; the browser never sees a token it could read or a key. Verification asks the
 * identity server on every request that needs it (identity.ts).
 *
 * A second, short-lived cookie carries what an emailed link needs back from the browser that asked
 * for it (Supabase's PKCE code verifier); the local auth server needs none, so it is never set there.
 */
import { deleteCookie, getCookie, setCookie } from "@solidjs/start/http";
import { getRequestEvent } from "solid-js/web";
import type { PendingSignIn } from "./auth/identityProvider.ts";
import { portalSettings } from "./settings.ts";

export const SESSION_COOKIE = "mr_session";
export const PENDING_SIGN_IN_COOKIE = "mr_link";
/** Only the confirm routes read it (`/auth/confirm/continue` redeems); an hour, like Supabase's default email link lifetime. */
const PENDING_PATH = "/auth/confirm";
const PENDING_MAX_AGE_S = 60 * 60;

/**
 * A session started or ended during this request (sign-in, then the single-flight preload of the
 * next page in the same request) wins over the cookie the request arrived with.
 */
function replaceForThisRequest(token: string): void {
  const event = getRequestEvent();
  if (!event) return;
  event.locals.sessionToken = token;
  event.locals.identity = undefined;
  event.locals.operator = undefined;
}

export function sessionToken(): string | undefined {
  const replaced = getRequestEvent()?.locals.sessionToken as string | undefined;
  if (replaced !== undefined) return replaced || undefined;
  const token = getCookie(SESSION_COOKIE);
  return token && token.length < 4096 ? token : undefined;
}

export function storeSession(token: string, expires: Date | undefined): void {
  replaceForThisRequest(token);
  setCookie(SESSION_COOKIE, token, {
    httpOnly: true,
    secure: portalSettings().secureCookies,
    sameSite: "lax",
    path: "/",
    ...(expires && !Number.isNaN(expires.getTime()) ? { expires } : {}),
  });
}

export function forgetSession(): void {
  replaceForThisRequest("");
  deleteCookie(SESSION_COOKIE, {
    path: "/",
    httpOnly: true,
    secure: portalSettings().secureCookies,
    sameSite: "lax",
  });
}

/** Keeps what the emailed link will need; nothing is set when the adapter needs nothing. */
export function storePendingSignIn(pending: PendingSignIn): void {
  if (!pending) return;
  setCookie(PENDING_SIGN_IN_COOKIE, pending, {
    httpOnly: true,
    secure: portalSettings().secureCookies,
    sameSite: "lax",
    path: PENDING_PATH,
    maxAge: PENDING_MAX_AGE_S,
  });
}

/** Reads and clears it: a link is redeemed once. */
export function takePendingSignIn(): PendingSignIn {
  const pending = getCookie(PENDING_SIGN_IN_COOKIE);
  if (pending === undefined) return undefined;
  deleteCookie(PENDING_SIGN_IN_COOKIE, {
    path: PENDING_PATH,
    httpOnly: true,
    secure: portalSettings().secureCookies,
    sameSite: "lax",
  });
  return pending.length < 4096 ? pending : undefined;
}
