/**
 * Account page: who you are, a new password, and deleting the account (the export is the API route
 * /api/account/export).
 */
import { action, query, redirect } from "@solidjs/router";
import { IdentityError } from "../server/auth/identityProvider.ts";
import { identityProvider } from "../server/auth/provider.ts";
import { sessionToken } from "../server/authSession.ts";
import { cancelNow } from "../server/billingActions.ts";
import { ownCustomer } from "../server/customerView.ts";
import { asPerson } from "../server/database.ts";
import { logServerError } from "../server/errorLog.ts";
import { confirmDeletionSchema, newPasswordSchema } from "../server/formSchemas.ts";
import { failure, parseForm } from "../server/forms.ts";
import { endSession, requireIdentity } from "../server/identity.ts";
import { limitedForm, requestAddress, takeLimits } from "../server/rateLimits.ts";
import { requireChangeRequest } from "../server/requestOrigin.ts";
import type { FormAnswer, FormResult } from "./formResult.ts";

export const getAccount = query(async () => {
  "use server";
  const identity = await requireIdentity();
  const customer = await asPerson(identity.claims, ownCustomer);
  return {
    email: identity.email,
    displayName: customer?.displayName ?? null,
    since: customer?.createdAt ?? null,
  };
}, "account");

/**
 * Sets a new password. The identity server allows it only shortly after signing in, so a session
 * left open on someone's computer cannot be used to take the account over; otherwise the person is
 * asked to sign in again (an emailed link does, and lands back here).
 */
export const changePassword = action(async (form: FormData): Promise<FormAnswer> => {
  "use server";
  requireChangeRequest();
  const identity = await requireIdentity();
  const parsed = parseForm(newPasswordSchema, form);
  if (!parsed.ok) return parsed.result;
  const limit = await takeLimits([
    ["passwordChange.address", { address: requestAddress() }],
    ["passwordChange.account", { account: identity.userId }],
  ]);
  if (!limit.allowed) return limitedForm(limit, "Too many password changes.");
  try {
    await identityProvider().changePassword(sessionToken() ?? "", parsed.data.password);
  } catch (error) {
    if (!(error instanceof IdentityError)) throw error;
    if (error.kind === "sign-in-again")
      return failure(
        "For your safety, a new password needs a recent sign-in. Sign in again (a sign-in link works too), then choose it.",
      );
    if (error.kind === "rate-limited") return failure(error.message);
    return failure("The identity server did not accept this password.", { password: error.message });
  }
  return { ok: true, message: "Your password is changed. Use it the next time you sign in." };
}, "changePassword");

export const deleteAccount = action(async (form: FormData): Promise<FormResult> => {
  "use server";
  requireChangeRequest();
  const identity = await requireIdentity();
  const parsed = parseForm(confirmDeletionSchema, form);
  if (!parsed.ok) return parsed.result;
  // Same path as a cancellation: Stripe ends the subscription, the webhook and worker schedule deletion.
  await cancelNow(identity);
  try {
    await identityProvider().deleteUser(identity.userId);
  } catch (error) {
    logServerError("account deletion: removing the sign-in failed", error, { user: identity.userId });
    return failure(
      "Your subscription is cancelled, but your sign-in could not be removed just now. Please try again in a moment; if it keeps failing, contact support.",
    );
  }
  await endSession();
  throw redirect("/goodbye", { revalidate: "session" });
}, "deleteAccount");
