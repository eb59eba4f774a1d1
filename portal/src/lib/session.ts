/**
 * Sign-in, sign-up, magic link and sign-out as server actions, plus the `session` query the layout
 * reads. The Supabase client lives on the server; the browser only ever gets httpOnly cookies.
 */
import { action, query, redirect } from "@solidjs/router";
import { getRequestEvent } from "solid-js/web";
import { ensureCustomer } from "../server/customers.ts";
import { magicLinkSchema, signInSchema, signUpSchema } from "../server/formSchemas.ts";
import { failure, parseForm } from "../server/forms.ts";
import { isOperator, optionalIdentity } from "../server/identity.ts";
import { portalSettings } from "../server/settings.ts";
import { requestSupabase } from "../server/supabase.ts";
import type { FormResult } from "./formResult.ts";

export interface SessionInfo {
  readonly email: string;
  readonly operator: boolean;
}

export const getSessionInfo = query(async (): Promise<SessionInfo | null> => {
  "use server";
  const identity = await optionalIdentity();
  if (!identity) return null;
  return { email: identity.email, operator: await isOperator(identity) };
}, "session");

export const signIn = action(async (form: FormData): Promise<FormResult> => {
  "use server";
  const parsed = parseForm(signInSchema, form);
  if (!parsed.ok) return parsed.result;
  const { email, password, next } = parsed.data;
  const { data, error } = await requestSupabase().auth.signInWithPassword({ email, password });
  if (error || !data.user) {
    return failure("That email and password do not match an account. Check them, or use a magic link.", {
      password: "Email or password is incorrect.",
    });
  }
  await ensureCustomer(data.user.id, email);
  throw redirect(next, { revalidate: "session" });
});

export const signUp = action(async (form: FormData): Promise<FormResult> => {
  "use server";
  const parsed = parseForm(signUpSchema, form);
  if (!parsed.ok) return parsed.result;
  const { email, password, name } = parsed.data;
  const { data, error } = await requestSupabase().auth.signUp({
    email,
    password,
    options: {
      emailRedirectTo: `${portalSettings().publicUrl}/auth/confirm`,
      ...(name ? { data: { display_name: name } } : {}),
    },
  });
  if (error) {
    const taken = /already|registered|exists/i.test(error.message);
    return taken
      ? failure("An account with this email already exists.", {
          email: "This email is already registered: sign in instead.",
        })
      : failure(`We could not create your account: ${error.message}`);
  }
  if (!data.user) return failure("We could not create your account. Please try again.");
  await ensureCustomer(data.user.id, email, name || null);
  if (!data.session) {
    return { ok: true, message: `Check ${email}: we sent a link to confirm your address.` };
  }
  throw redirect("/billing?welcome=1", { revalidate: "session" });
});

export const sendMagicLink = action(async (form: FormData): Promise<FormResult> => {
  "use server";
  const parsed = parseForm(magicLinkSchema, form);
  if (!parsed.ok) return parsed.result;
  const { email, next } = parsed.data;
  const { error } = await requestSupabase().auth.signInWithOtp({
    email,
    options: {
      emailRedirectTo: `${portalSettings().publicUrl}/auth/confirm?next=${encodeURIComponent(next)}`,
      shouldCreateUser: true,
    },
  });
  if (error) return failure(`We could not send the link: ${error.message}`);
  return { ok: true, message: `If ${email} can sign in, a sign-in link is on its way. It works once.` };
});

export const signOut = action(async () => {
  "use server";
  await requestSupabase().auth.signOut({ scope: "local" });
  const event = getRequestEvent();
  if (event) event.locals.identity = undefined;
  throw redirect("/login", { revalidate: "session" });
});
