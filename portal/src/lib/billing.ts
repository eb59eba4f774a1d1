/** Billing page data and actions (server functions over server/billingActions.ts). */
import { action, query } from "@solidjs/router";
import { TIER_IDS, TIERS, type Tier } from "../../../components/tiers.ts";
import {
  choosePlan as choosePlanFor,
  openBillingPortal as portalFor,
  setCancelAtPeriodEnd,
} from "../server/billingActions.ts";
import { type CustomerInstance, customerInstance } from "../server/customerFacing.ts";
import { customerView, type SubscriptionRow } from "../server/customerView.ts";
import { asPerson } from "../server/database.ts";
import { planSchema } from "../server/formSchemas.ts";
import { parseForm } from "../server/forms.ts";
import { requireIdentity } from "../server/identity.ts";
import { requireChangeRequest } from "../server/requestOrigin.ts";
import { priceForTier } from "../server/stripe.ts";
import type { FormResult } from "./formResult.ts";

export interface Plan extends Tier {
  readonly purchasable: boolean;
}

export interface Billing {
  readonly plans: readonly Plan[];
  readonly subscription: SubscriptionRow | null;
  readonly instance: CustomerInstance | null;
  readonly hasBillingAccount: boolean;
}

export const getBilling = query(async (): Promise<Billing> => {
  "use server";
  const identity = await requireIdentity();
  const view = await asPerson(identity.claims, (db) => customerView(db, 1));
  return {
    plans: TIER_IDS.map((id) => ({ ...TIERS[id], purchasable: priceForTier(id) !== undefined })),
    subscription: view.subscription,
    instance: view.instance ? customerInstance(view.instance) : null,
    hasBillingAccount: Boolean(view.customer?.stripeCustomerId),
  };
}, "billing");

export const choosePlan = action(async (form: FormData): Promise<FormResult> => {
  "use server";
  requireChangeRequest();
  const identity = await requireIdentity();
  const parsed = parseForm(planSchema, form);
  if (!parsed.ok) return parsed.result;
  return choosePlanFor(identity, parsed.data.tier);
}, "choosePlan");

export const openBillingPortal = action(async (): Promise<FormResult> => {
  "use server";
  requireChangeRequest();
  return portalFor(await requireIdentity());
}, "billingPortal");

export const cancelSubscription = action(async (): Promise<FormResult> => {
  "use server";
  requireChangeRequest();
  return setCancelAtPeriodEnd(await requireIdentity(), true);
}, "cancelSubscription");

export const reactivateSubscription = action(async (): Promise<FormResult> => {
  "use server";
  requireChangeRequest();
  return setCancelAtPeriodEnd(await requireIdentity(), false);
}, "reactivateSubscription");
