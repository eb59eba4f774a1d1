/**
 * The customer's dashboard data and instance actions. Reads run as the person (RLS); actions read
 * the person's own instance the same way before queueing anything, so a forged instance id can
 * never reach the queue.
 */
import { action, query } from "@solidjs/router";
import { isTierId, type Tier, tier as tierOf } from "../../../components/tiers.ts";
import { canRestart } from "../../../database/instanceStates.ts";
import { requestRestart } from "../../../database/instances.ts";
import { type CustomerFacingView, forCustomer } from "../server/customerFacing.ts";
import { customerView } from "../server/customerView.ts";
import { asPerson } from "../server/database.ts";
import { instanceActionSchema } from "../server/formSchemas.ts";
import { failure, parseForm } from "../server/forms.ts";
import { requireIdentity } from "../server/identity.ts";
import { auditAndEnqueue } from "../server/reconcileQueue.ts";
import { requireChangeRequest } from "../server/requestOrigin.ts";
import type { FormResult } from "./formResult.ts";

export interface Dashboard extends CustomerFacingView {
  readonly tier: Tier | null;
}

export const getDashboard = query(async (): Promise<Dashboard> => {
  "use server";
  const identity = await requireIdentity();
  const view = forCustomer(await asPerson(identity.claims, (db) => customerView(db)));
  const id = view.instance?.tier ?? view.subscription?.tier ?? null;
  return { ...view, tier: id && isTierId(id) ? tierOf(id) : null };
}, "dashboard");

const ACTION_TEXT = {
  restart: {
    audit: "customer.restart",
    reason: "restart requested by the customer",
    done: "Restart queued.",
  },
  retry: {
    audit: "customer.retry_provisioning",
    reason: "re-run of a failed provisioning requested by the customer",
    done: "Provisioning queued again.",
  },
} as const;

export const instanceAction = action(async (form: FormData): Promise<FormResult> => {
  "use server";
  requireChangeRequest();
  const identity = await requireIdentity();
  const parsed = parseForm(instanceActionSchema, form);
  if (!parsed.ok) return parsed.result;
  const { action: kind } = parsed.data;
  const view = await asPerson(identity.claims, (db) => customerView(db, 1));
  const { customer, instance } = view;
  if (!customer || !instance) return failure("You have no instance yet: choose a plan first.");
  if (!customer.stripeCustomerId)
    return failure("Your billing account is not set up yet: choose a plan first.");
  if (kind === "retry" && instance.actualState !== "failed") {
    return failure("Only a failed provisioning can be re-run; your instance is not in a failed state.");
  }
  if (kind === "restart" && !canRestart(instance.actualState)) {
    return failure(`Your instance is ${instance.actualState}; it can be restarted once it is running.`);
  }
  const text = ACTION_TEXT[kind];
  const actor = `customer:${identity.email}`;
  await auditAndEnqueue(
    {
      actor,
      actorUserId: identity.userId,
      customerId: customer.id,
      instanceId: instance.id,
      action: text.audit,
      reason: text.reason,
    },
    { customerKey: customer.stripeCustomerId, trigger: "customer", reason: text.reason, requestedBy: actor },
    // A restart is a new generation in the tenant's spec, so the worker runs it (once) rather than
    // skipping an unchanged spec; a re-run needs no change: a failed instance is never skipped.
    kind === "restart" ? (tx) => requestRestart(tx, instance.id) : undefined,
  );
  return { ok: true, message: text.done };
}, "instanceAction");
