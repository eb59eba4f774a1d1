/**
 * A Supabase client bound to the current request's cookies (`@supabase/ssr`). The session lives
 * only in httpOnly cookies set by the server; the browser never holds a token or a key. Created per
 * request: the cookie adapter reads and writes this request's headers.
 */
import { parseCookies, setCookie } from "@solidjs/start/http";
import { createServerClient } from "@supabase/ssr";
import { createClient, type SupabaseClient } from "@supabase/supabase-js";
import { getRequestEvent } from "solid-js/web";
import { portalSettings } from "./settings.ts";

export function requestSupabase(): SupabaseClient {
  const event = getRequestEvent();
  const cached = event?.locals.supabase as SupabaseClient | undefined;
  if (cached) return cached;
  const settings = portalSettings();
  const client = createServerClient(settings.supabaseUrl, settings.supabaseAnonKey, {
    cookieOptions: { httpOnly: true, secure: settings.secureCookies, sameSite: "lax", path: "/" },
    cookies: {
      getAll: () => Object.entries(parseCookies()).map(([name, value]) => ({ name, value: value ?? "" })),
      setAll: (cookies) => {
        for (const { name, value, options } of cookies) {
          // Whatever @supabase/ssr suggests, the session cookie is never readable by scripts.
          setCookie(name, value, {
            ...options,
            httpOnly: true,
            secure: settings.secureCookies,
            sameSite: "lax",
          });
        }
      },
    },
  });
  if (event) event.locals.supabase = client;
  return client;
}

/** The admin API (service role), for server code that must act beyond one person's session. */
export function adminSupabase(): SupabaseClient {
  const settings = portalSettings();
  if (!settings.supabaseServiceRoleKey) {
    throw new Error("SUPABASE_SERVICE_ROLE_KEY is not set: account deletion needs the Supabase admin API");
  }
  return createClient(settings.supabaseUrl, settings.supabaseServiceRoleKey, {
    auth: { persistSession: false, autoRefreshToken: false },
  });
}
