/**
 * The signed-in session, kept server-side: the identity server's opaque session token lives only in
 * an httpOnly, SameSite=Lax (and Secure) cookie; the browser never sees a token it could read or a
 * key. Verification asks the identity server (`/sessions/whoami`) on every request that needs it.
 *
 * The identity server is the local auth server (auth-server/: Ory Kratos behind a gateway at
 * `SUPABASE_URL/auth/v1`, because Supabase Auth could not be built here; see auth-server/README.md),
 * spoken to through its own client, auth-server/client.ts.
 */
import { deleteCookie, getCookie, setCookie } from "@solidjs/start/http";
import { getRequestEvent } from "solid-js/web";
import { AuthClient } from "../../../auth-server/client.ts";
import { portalSettings } from "./settings.ts";

export const SESSION_COOKIE = "mr_session";

let client: AuthClient | undefined;

export function authClient(): AuthClient {
  client ??= new AuthClient({ authUrl: `${portalSettings().supabaseUrl}/auth/v1` });
  return client;
}

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

export function storeSession(token: string, expiresAt: string): void {
  replaceForThisRequest(token);
  const expires = new Date(expiresAt);
  setCookie(SESSION_COOKIE, token, {
    httpOnly: true,
    secure: portalSettings().secureCookies,
    sameSite: "lax",
    path: "/",
    ...(Number.isNaN(expires.getTime()) ? {} : { expires }),
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

export class AdminApiError extends Error {
  override readonly name = "AdminApiError";
}

/** Deletes a person's identity through the admin API (service role key; server-only). */
export async function deleteIdentity(userId: string): Promise<void> {
  const { supabaseUrl, supabaseServiceRoleKey } = portalSettings();
  if (!supabaseServiceRoleKey)
    throw new AdminApiError("SUPABASE_SERVICE_ROLE_KEY is not set: the admin API is needed");
  const answer = await fetch(`${supabaseUrl}/auth/v1/admin/identities/${encodeURIComponent(userId)}`, {
    method: "DELETE",
    headers: { apikey: supabaseServiceRoleKey, authorization: `Bearer ${supabaseServiceRoleKey}` },
  });
  if (answer.status !== 204 && answer.status !== 200 && answer.status !== 404) {
    throw new AdminApiError(`the identity server refused the deletion (HTTP ${answer.status})`);
  }
}
