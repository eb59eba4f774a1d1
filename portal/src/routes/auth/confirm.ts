/**
 * Where emailed links land (sign-in links; with Supabase also sign-up confirmations): the query is
 * redeemed with the identity server for a session (the local server's `?flow=…&email=…&code=…`,
 * Supabase's `?token_hash=…&type=…` or PKCE `?code=…`), which goes into the httpOnly cookie on this
 * redirect; the person continues to a same-site path. A bad or used link goes back to sign-in with
 * a message.
 */
import { identityProvider } from "../../server/auth/provider.ts";
import { storeSession, takePendingSignIn } from "../../server/authSession.ts";
import { ensureCustomer } from "../../server/customers.ts";

function safeNext(raw: string | null): string {
  return raw && /^\/(?!\/)[\w\-/?=&%.]*$/.test(raw) ? raw : "/dashboard";
}

function go(location: string): Response {
  // h3 merges the headers set on the event (the session cookie) into a returned Response below 400.
  // `setResponseStatus` is no way to do this: @solidjs/start 2.0.5 only sets a status h3 already
  // has, so the route answered 200 with a Location header and browsers stayed on a blank page.
  return new Response(null, { status: 303, headers: { location } });
}

export async function GET({ request }: { request: Request }) {
  const url = new URL(request.url);
  const next = safeNext(url.searchParams.get("next"));
  const pending = takePendingSignIn();
  try {
    const signed = await identityProvider().completeMagicLink(url.searchParams, pending);
    storeSession(signed.sessionToken, signed.cookieExpiresAt);
    await ensureCustomer(signed.userId, signed.email, signed.displayName ?? null);
  } catch {
    return go(`/login?error=link&next=${encodeURIComponent(next)}`);
  }
  return go(next);
}
