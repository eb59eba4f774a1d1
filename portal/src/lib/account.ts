/** Account page: who you are, and deleting the account (the export is the API route /api/account/export). */
import { action, query, redirect } from "@solidjs/router";
import { identityProvider } from "../server/auth/provider.ts";
import { cancelNow } from "../server/billingActions.ts";
import { ownCustomer } from "../server/customerView.ts";
import { asPerson } from "../server/database.ts";
import { logServerError } from "../server/errorLog.ts";
import { confirmDeletionSchema } from "../server/formSchemas.ts";
import { failure, parseForm } from "../server/forms.ts";
import { endSession, requireIdentity } from "../server/identity.ts";
import { requireChangeRequest } from "../server/requestOrigin.ts";
import type { FormResult } from "./formResult.ts";

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
