/**
 * Sign-in, sign-up, magic link, password reset and sign-out as server actions, plus the `session` query the layout
 * reads. The identity server is called from the server only; the browser gets an httpOnly cookie.
 */
import { action, query, redirect } from "@solidjs/router";
import { IdentityError, type LinkLanding } from "../server/auth/identityProvider.ts";
import { identityProvider } from "../server/auth/provider.ts";
import { storePendingSignIn, storeSession } from "../server/authSession.ts";
import { ensureCustomer } from "../server/customers.ts";
import { magicLinkSchema, passwordResetSchema, signInSchema, signUpSchema } from "../server/formSchemas.ts";
import { failure, parseForm } from "../server/forms.ts";
import { endSession, isOperator, optionalIdentity } from "../server/identity.ts";
import { limitedForm, requestAddress, takeLimits } from "../server/rateLimits.ts";
import { NEW_PASSWORD_PAGE } from "../server/redirects.ts";
import { requireChangeRequest } from "../server/requestOrigin.ts";
import { portalSettings } from "../server/settings.ts";
import type { FormAnswer, FormResult } from "./formResult.ts";

export interface SessionInfo {
  readonly email: string;
  readonly operator: boolean;
}

/** Where emailed links (sign-in links, sign-up confirmations) land: routes/auth/confirm/. */
function landing(next: string): LinkLanding {
  return { confirmUrl: `${portalSettings().publicUrl}/auth/confirm`, next };
}

export const getSessionInfo = query(async (): Promise<SessionInfo | null> => {
  "use server";
  const identity = await optionalIdentity();
  if (!identity) return null;
  return { email: identity.email, operator: await isOperator(identity) };
}, "session");

export const signIn = action(async (form: FormData): Promise<FormAnswer> => {
  "use server";
  requireChangeRequest();
  const parsed = parseForm(signInSchema, form);
  if (!parsed.ok) return parsed.result;
  const { email, password, next } = parsed.data;
  const limit = await takeLimits([
    ["signIn.address", { address: requestAddress() }],
    ["signIn.account", { account: email }],
  ]);
  if (!limit.allowed) return limitedForm(limit, "Too many sign-in attempts.");
  try {
    const signed = await identityProvider().signInWithPassword(email, password);
    storeSession(signed.sessionToken, signed.cookieExpiresAt);
    await ensureCustomer(signed.userId, email);
  } catch (error) {
    if (error instanceof IdentityError) {
      if (error.kind === "invalid-credentials") {
        return failure(
          "That email and password do not match an account. Check them, or use a sign-in link.",
          {
            password: "Email or password is incorrect.",
          },
        );
      }
      // Supabase only: an unconfirmed address, or rate limiting.
      return failure(error.message);
    }
    throw error;
  }
  throw redirect(next, { revalidate: "session" });
}, "signIn");

export const signUp = action(async (form: FormData): Promise<FormAnswer> => {
  "use server";
  requireChangeRequest();
  const parsed = parseForm(signUpSchema, form);
  if (!parsed.ok) return parsed.result;
  const { email, password, name } = parsed.data;
  const limit = await takeLimits([
    ["signUp.address", { address: requestAddress() }],
    ["signUp.account", { account: email }],
  ]);
  if (!limit.allowed) return limitedForm(limit, "Too many accounts created from here.");
  const welcome = "/billing?welcome=1";
  try {
    const result = await identityProvider().signUp(email, password, {
      landing: landing(welcome),
      ...(name ? { displayName: name } : {}),
    });
    if (result.status === "confirm-email") {
      // Supabase with "Confirm email" on: the customer row is made when the link is opened.
      storePendingSignIn(result.pending);
      return { ok: true, message: `Check ${email}: the link in it confirms your address and signs you in.` };
    }
    storeSession(result.signedIn.sessionToken, result.signedIn.cookieExpiresAt);
    await ensureCustomer(result.signedIn.userId, email, name || null);
  } catch (error) {
    if (error instanceof IdentityError) {
      if (error.kind === "account-exists") {
        return failure("An account with this email already exists.", {
          email: "This email is already registered: sign in instead.",
        });
      }
      if (error.kind === "rejected") {
        // The identity server's own password policy (e.g. a breached or too-similar password).
        return failure("We could not create your account with this password.", {
          password: error.message,
        });
      }
      return failure(error.message);
    }
    throw error;
  }
  throw redirect(welcome, { revalidate: "session" });
}, "signUp");

/**
 * Emails a one-time sign-in link landing on `next`. Unknown addresses get the same answer as known
 * ones: the form must not reveal who has an account.
 */
async function emailSignInLink(email: string, next: string): Promise<FormResult | undefined> {
  try {
    storePendingSignIn(await identityProvider().sendMagicLink(email, landing(next)));
  } catch (error) {
    if (error instanceof IdentityError && error.kind === "rate-limited") return failure(error.message);
    if (!(error instanceof IdentityError)) throw error;
  }
  return undefined;
}

export const sendMagicLink = action(async (form: FormData): Promise<FormAnswer> => {
  "use server";
  requireChangeRequest();
  const parsed = parseForm(magicLinkSchema, form);
  if (!parsed.ok) return parsed.result;
  const { email, next } = parsed.data;
  const limit = await takeLimits([
    ["magicLink.address", { address: requestAddress() }],
    ["magicLink.account", { account: email }],
  ]);
  if (!limit.allowed) return limitedForm(limit, "Too many sign-in links requested.");
  return (
    (await emailSignInLink(email, next)) ?? {
      ok: true,
      message: `If ${email} has an account, a sign-in link is on its way. It works once.`,
    }
  );
}, "sendMagicLink");

/**
 * A forgotten password: a one-time sign-in link that lands where a new password is chosen (the
 * account page's password form; the identity server allows the change because that sign-in is recent).
 */
export const requestPasswordReset = action(async (form: FormData): Promise<FormAnswer> => {
  "use server";
  requireChangeRequest();
  const parsed = parseForm(passwordResetSchema, form);
  if (!parsed.ok) return parsed.result;
  const { email } = parsed.data;
  const limit = await takeLimits([
    ["passwordReset.address", { address: requestAddress() }],
    ["passwordReset.account", { account: email }],
  ]);
  if (!limit.allowed) return limitedForm(limit, "Too many password resets requested.");
  return (
    (await emailSignInLink(email, NEW_PASSWORD_PAGE)) ?? {
      ok: true,
      message: `If ${email} has an account, a link to choose a new password is on its way. It works once.`,
    }
  );
}, "requestPasswordReset");

export const signOut = action(async () => {
  "use server";
  requireChangeRequest();
  await endSession();
  throw redirect("/login", { revalidate: "session" });
}, "signOut");
