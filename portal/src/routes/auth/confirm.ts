/**
 * Where the emailed sign-in link lands: `?flow=…&email=…&code=…` is redeemed with the identity
 * server for a session, which goes into the httpOnly cookie on this redirect; the person continues
 * to a same-site path. A bad or used link goes back to sign-in with a message.
 */
import { setResponseHeader, setResponseStatus } from "@solidjs/start/http";
import { authClient, storeSession } from "../../server/authSession.ts";
import { ensureCustomer } from "../../server/customers.ts";

function safeNext(raw: string | null): string {
  return raw && /^\/(?!\/)[\w\-/?=&%.]*$/.test(raw) ? raw : "/dashboard";
}

function go(location: string): string {
  // A 303 through h3's response (not a fresh Response), so the cookie set above travels with it.
  setResponseStatus(303);
  setResponseHeader("location", location);
  return "";
}

export async function GET({ request }: { request: Request }) {
  const url = new URL(request.url);
  const next = safeNext(url.searchParams.get("next"));
  const flow = url.searchParams.get("flow") ?? "";
  const email = url.searchParams.get("email") ?? "";
  const code = url.searchParams.get("code") ?? "";
  if (!/^[\w-]{1,100}$/.test(flow) || !/^\d{4,12}$/.test(code) || !email.includes("@")) {
    return go(`/login?error=link&next=${encodeURIComponent(next)}`);
  }
  try {
    const signed = await authClient().signInWithCode(flow, email, code);
    storeSession(signed.sessionToken, signed.session.expires_at);
    await ensureCustomer(signed.session.identity.id, signed.session.identity.traits.email);
  } catch {
    return go(`/login?error=link&next=${encodeURIComponent(next)}`);
  }
  return go(next);
}
