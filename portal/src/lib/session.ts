/**
 * Sign-in, sign-up, magic link and sign-out as server actions, plus the `session` query the layout
 * reads. The identity server is called from the server only; the browser gets an httpOnly cookie.
 */
import { action, query, redirect } from "@solidjs/router";
import { AuthClientError } from "../../../auth-server/client.ts";
import { authClient, storeSession } from "../server/authSession.ts";
import { ensureCustomer } from "../server/customers.ts";
import { magicLinkSchema, signInSchema, signUpSchema } from "../server/formSchemas.ts";
import { failure, parseForm } from "../server/forms.ts";
import { endSession, isOperator, optionalIdentity } from "../server/identity.ts";
import { portalSettings } from "../server/settings.ts";
import type { FormResult } from "./formResult.ts";

export interface SessionInfo {
  readonly email: string;
  readonly operator: boolean;
}

/** Kratos message ids the portal explains in its own words. */
const WRONG_CREDENTIALS = 4000006;
const ACCOUNT_EXISTS = 4000007;

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
  try {
    const signed = await authClient().signInWithPassword(email, password);
    storeSession(signed.sessionToken, signed.session.expires_at);
    await ensureCustomer(signed.session.identity.id, email);
  } catch (error) {
    if (
      error instanceof AuthClientError &&
      (error.messageIds.includes(WRONG_CREDENTIALS) || error.status === 400)
    ) {
      return failure("That email and password do not match an account. Check them, or use a sign-in link.", {
        password: "Email or password is incorrect.",
      });
    }
    throw error;
  }
  throw redirect(next, { revalidate: "session" });
});

export const signUp = action(async (form: FormData): Promise<FormResult> => {
  "use server";
  const parsed = parseForm(signUpSchema, form);
  if (!parsed.ok) return parsed.result;
  const { email, password, name } = parsed.data;
  try {
    const signed = await authClient().signUp(email, password);
    storeSession(signed.sessionToken, signed.session.expires_at);
    await ensureCustomer(signed.session.identity.id, email, name || null);
  } catch (error) {
    if (error instanceof AuthClientError) {
      if (error.messageIds.includes(ACCOUNT_EXISTS)) {
        return failure("An account with this email already exists.", {
          email: "This email is already registered: sign in instead.",
        });
      }
      if (error.status === 400) {
        // The identity server's own password policy (e.g. a breached or too-similar password).
        return failure("We could not create your account with this password.", {
          password: error.message.replace(/^sign-up failed: /, ""),
        });
      }
    }
    throw error;
  }
  throw redirect("/billing?welcome=1", { revalidate: "session" });
});

export const sendMagicLink = action(async (form: FormData): Promise<FormResult> => {
  "use server";
  const parsed = parseForm(magicLinkSchema, form);
  if (!parsed.ok) return parsed.result;
  const { email, next } = parsed.data;
  const base = portalSettings().publicUrl;
  try {
    await authClient().sendSignInCode(
      email,
      (flow) =>
        `${base}/auth/confirm?flow=${encodeURIComponent(flow)}&email=${encodeURIComponent(email)}&next=${encodeURIComponent(next)}&code=`,
    );
  } catch (error) {
    // Unknown addresses get the same answer as known ones: the form must not reveal who has an account.
    if (!(error instanceof AuthClientError && error.status === 400)) throw error;
  }
  return { ok: true, message: `If ${email} has an account, a sign-in link is on its way. It works once.` };
});

export const signOut = action(async () => {
  "use server";
  await endSession();
  throw redirect("/login", { revalidate: "session" });
});
