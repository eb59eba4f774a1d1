/** Account page: who you are, and deleting the account (the export is the API route /api/account/export). */
import { action, query, redirect } from "@solidjs/router";
import { cancelNow } from "../server/billingActions.ts";
import { ownCustomer } from "../server/customerView.ts";
import { asPerson } from "../server/database.ts";
import { confirmDeletionSchema } from "../server/formSchemas.ts";
import { failure, parseForm } from "../server/forms.ts";
import { requireIdentity } from "../server/identity.ts";
import { adminSupabase, requestSupabase } from "../server/supabase.ts";
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
  const identity = await requireIdentity();
  const parsed = parseForm(confirmDeletionSchema, form);
  if (!parsed.ok) return parsed.result;
  let admin: ReturnType<typeof adminSupabase>;
  try {
    admin = adminSupabase();
  } catch {
    return failure("Account deletion is not available right now; contact support.");
  }
  // Same path as a cancellation: Stripe ends the subscription, the webhook and worker schedule deletion.
  await cancelNow(identity);
  const { error } = await admin.auth.admin.deleteUser(identity.userId);
  if (error)
    return failure(`Your subscription is cancelled, but the sign-in could not be removed: ${error.message}`);
  await requestSupabase()
    .auth.signOut({ scope: "local" })
    .catch(() => undefined);
  throw redirect("/goodbye", { revalidate: "session" });
}, "deleteAccount");
