/**
 * POST /auth/confirm/continue?<the emailed link's query>: the confirm page's button. Redeems the
 * link with the identity server (the local server's `flow`, `email`, `code`; Supabase's
 * `token_hash` + `type`, or a PKCE `code` with the verifier from the `mr_link` cookie, whose path
 * covers this route) and sets the httpOnly session cookie on the redirect to a known portal page
 * (server/redirects.ts). A bad or used link goes back to sign-in with a message; past the sign-in
 * rate limits, a 429 page says when to try again.
 */
import { identityProvider } from "../../../server/auth/provider.ts";
import { storeSession, takePendingSignIn } from "../../../server/authSession.ts";
import { ensureCustomer } from "../../../server/customers.ts";
import { requestAddress, takeLimits, waitText } from "../../../server/rateLimits.ts";
import { landingPage } from "../../../server/redirects.ts";

function go(location: string): Response {
  // h3 merges the headers set on the event (the session cookie) into a returned Response below 400.
  // `setResponseStatus` is no way to do this: @solidjs/start 2.0.5 only sets a status h3 already
  // has, so the route answered 200 with a Location header and browsers stayed on a blank page.
  return new Response(null, { status: 303, headers: { location } });
}

/** Redeeming a link is a sign-in: it counts against the sign-in limits (a code can be guessed). */
async function limited(query: URLSearchParams): Promise<Response | undefined> {
  const email = query.get("email");
  const decision = await takeLimits([
    ["signIn.address", { address: requestAddress() }],
    ...(email ? [["signIn.account", { account: email }] as const] : []),
  ]);
  if (decision.allowed) return undefined;
  const wait = waitText(decision.retryAfterSeconds);
  return new Response(
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Too many attempts · MindRoom Cloud</title></head>` +
      `<body><h1>Too many sign-in attempts</h1><p>Try again in ${wait}. <a href="/login">Back to sign-in</a></p></body></html>`,
    {
      status: 429,
      headers: {
        "content-type": "text/html; charset=utf-8",
        "retry-after": String(decision.retryAfterSeconds),
        "cache-control": "no-store",
      },
    },
  );
}

export async function POST({ request }: { request: Request }) {
  const url = new URL(request.url);
  const refused = await limited(url.searchParams);
  if (refused) return refused;
  const next = landingPage(url.searchParams.get("next"));
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
