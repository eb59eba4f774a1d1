/**
 * Where a magic link or a confirmation email lands. Two shapes: `?token_hash=…&type=…` (verifyOtp)
 * and the PKCE `?code=…` (exchangeCodeForSession). Either way the session ends up in httpOnly
 * cookies set on this response, and the person continues to a same-site path.
 */
import { setResponseHeader, setResponseStatus } from "@solidjs/start/http";
import type { EmailOtpType } from "@supabase/supabase-js";
import { ensureCustomer } from "../../server/customers.ts";
import { requestSupabase } from "../../server/supabase.ts";

const OTP_TYPES = new Set<EmailOtpType>([
  "magiclink",
  "signup",
  "email",
  "invite",
  "recovery",
  "email_change",
]);

function safeNext(raw: string | null): string {
  return raw && /^\/(?!\/)[\w\-/?=&%.]*$/.test(raw) ? raw : "/dashboard";
}

function go(location: string): string {
  // A 303 through h3's response (not a fresh Response), so the cookies set above travel with it.
  setResponseStatus(303);
  setResponseHeader("location", location);
  return "";
}

export async function GET({ request }: { request: Request }) {
  const url = new URL(request.url);
  const next = safeNext(url.searchParams.get("next"));
  const supabase = requestSupabase();
  const tokenHash = url.searchParams.get("token_hash");
  const type = url.searchParams.get("type") as EmailOtpType | null;
  const code = url.searchParams.get("code");
  let user: { id: string; email?: string | undefined } | null = null;
  if (tokenHash && type && OTP_TYPES.has(type)) {
    const { data, error } = await supabase.auth.verifyOtp({ token_hash: tokenHash, type });
    if (!error) user = data.user;
  } else if (code) {
    const { data, error } = await supabase.auth.exchangeCodeForSession(code);
    if (!error) user = data.user;
  }
  if (!user) return go(`/login?error=link&next=${encodeURIComponent(next)}`);
  await ensureCustomer(user.id, user.email ?? "");
  return go(next);
}
