/**
 * The operator console's server functions. Every one starts with `requireOperator()`; reads run
 * under RLS as the operator; actions ask for a reason and write an audit row with who and why in
 * the same transaction as the job they queue.
 */
import { action, query } from "@solidjs/router";
import { audit } from "../../../database/auditLog.ts";
import { setHold } from "../../../database/instances.ts";
import { asPerson, servicePool } from "../server/database.ts";
import { deadLetterRetrySchema, operatorActionSchema } from "../server/formSchemas.ts";
import { failure, parseForm } from "../server/forms.ts";
import { type Identity, requireOperator } from "../server/identity.ts";
import { type PlatformView, platformView, type TenantDetail, tenantDetail } from "../server/operatorView.ts";
import { auditAndEnqueue, reconcileQueue } from "../server/reconcileQueue.ts";
import { requireChangeRequest } from "../server/requestOrigin.ts";
import { type TenantPage, tenantFilterSchema, tenantsPage } from "../server/tenantsTable.ts";
import { askWorker, unanswered } from "../server/workerRequests.ts";
import type { FormResult } from "./formResult.ts";

export const getTenants = query(async (raw: Record<string, string | undefined>): Promise<TenantPage> => {
  "use server";
  const identity = await requireOperator();
  const filter = tenantFilterSchema.safeParse(raw);
  return asPerson(identity.claims, (db) =>
    tenantsPage(db, filter.success ? filter.data : tenantFilterSchema.parse({})),
  );
}, "tenants");

export interface DeadLetterView {
  readonly id: string;
  readonly reason: string;
  readonly error: string;
  readonly retries: number;
  readonly deadLetteredAt: string;
}

export interface TenantPageData extends TenantDetail {
  readonly deadLetters: readonly DeadLetterView[];
}

export const getTenant = query(async (instanceId: string): Promise<TenantPageData | null> => {
  "use server";
  const identity = await requireOperator();
  if (!/^[0-9a-f-]{36}$/i.test(instanceId)) return null;
  const detail = await asPerson(identity.claims, (db) => tenantDetail(db, instanceId));
  if (!detail) return null;
  const key = detail.customer.stripeCustomerId;
  const deadLetters = key
    ? (await (await reconcileQueue()).deadLetters())
        .filter((d) => d.customerKey === key)
        .map((d) => ({
          id: d.id,
          reason: d.reason,
          error: d.error,
          retries: d.retries,
          deadLetteredAt: d.deadLetteredAt.toISOString(),
        }))
    : [];
  return { ...detail, deadLetters };
}, "tenant");

export const getLiveOutputs = query(
  async (instanceId: string): Promise<Record<string, unknown> | { error: string }> => {
    "use server";
    const identity = await requireOperator();
    const detail = await asPerson(identity.claims, (db) => tenantDetail(db, instanceId));
    if (!detail) return { error: "No such tenant." };
    const request = await askWorker(identity, detail.instance.id, "outputs", null);
    if (request.status !== "succeeded" || !request.result) return { error: unanswered(request) };
    return request.result;
  },
  "liveOutputs",
);

export const getPlatform = query(async (): Promise<PlatformView> => {
  "use server";
  const identity = await requireOperator();
  return asPerson(identity.claims, platformView);
}, "platform");

async function tenantFor(identity: Identity, instanceId: string) {
  return asPerson(identity.claims, (db) => tenantDetail(db, instanceId));
}

function actorOf(identity: Identity) {
  return `operator:${identity.email}`;
}

export const reconcileNow = action(async (form: FormData): Promise<FormResult> => {
  "use server";
  requireChangeRequest();
  const identity = await requireOperator();
  const parsed = parseForm(operatorActionSchema, form);
  if (!parsed.ok) return parsed.result;
  const tenant = await tenantFor(identity, parsed.data.instanceId);
  if (!tenant) return failure("No such tenant.");
  const key = tenant.customer.stripeCustomerId;
  if (!key) return failure("This tenant has no Stripe customer, so there is nothing to reconcile against.");
  await auditAndEnqueue(
    {
      actor: actorOf(identity),
      actorUserId: identity.userId,
      customerId: tenant.customer.id,
      instanceId: tenant.instance.id,
      action: "operator.reconcile",
      reason: parsed.data.reason,
    },
    { customerKey: key, trigger: "operator", reason: parsed.data.reason, requestedBy: actorOf(identity) },
  );
  return { ok: true, message: "Reconcile queued. The operations list updates when the worker picks it up." };
}, "reconcileNow");

function holdAction(hold: boolean) {
  return async (form: FormData): Promise<FormResult> => {
    const identity = await requireOperator();
    const parsed = parseForm(operatorActionSchema, form);
    if (!parsed.ok) return parsed.result;
    const tenant = await tenantFor(identity, parsed.data.instanceId);
    if (!tenant) return failure("No such tenant.");
    const key = tenant.customer.stripeCustomerId;
    if (!key) return failure("This tenant has no Stripe customer, so there is nothing to reconcile against.");
    const action = hold ? "operator.suspend" : "operator.resume";
    // The hold is an input to the worker's decision (desiredState.ts), which applies it.
    await auditAndEnqueue(
      {
        actor: actorOf(identity),
        actorUserId: identity.userId,
        customerId: tenant.customer.id,
        instanceId: tenant.instance.id,
        action,
        reason: parsed.data.reason,
        details: { held: hold },
      },
      {
        customerKey: key,
        trigger: "operator",
        reason: `${action}: ${parsed.data.reason}`,
        requestedBy: actorOf(identity),
      },
      (tx) => setHold(tx, tenant.instance.id, hold ? parsed.data.reason : null),
    );
    return { ok: true, message: hold ? "Suspension queued." : "Resume queued." };
  };
}

export const suspendTenant = action(async (form: FormData) => {
  "use server";
  requireChangeRequest();
  return holdAction(true)(form);
}, "suspendTenant");

export const resumeTenant = action(async (form: FormData) => {
  "use server";
  requireChangeRequest();
  return holdAction(false)(form);
}, "resumeTenant");

export const previewTenant = action(async (form: FormData): Promise<FormResult & { preview?: unknown }> => {
  "use server";
  requireChangeRequest();
  const identity = await requireOperator();
  const parsed = parseForm(operatorActionSchema, form);
  if (!parsed.ok) return parsed.result;
  const tenant = await tenantFor(identity, parsed.data.instanceId);
  if (!tenant) return failure("No such tenant.");
  await audit(servicePool(), {
    actor: actorOf(identity),
    actorUserId: identity.userId,
    customerId: tenant.customer.id,
    instanceId: tenant.instance.id,
    action: "operator.preview",
    reason: parsed.data.reason,
  });
  const request = await askWorker(identity, tenant.instance.id, "preview", parsed.data.reason);
  if (request.status === "succeeded")
    return { ok: true, message: "Preview finished.", preview: request.result };
  // A refused preview still carries its plan and the policy violations that refused it.
  return { ...failure(unanswered(request)), ...(request.result ? { preview: request.result } : {}) };
}, "previewTenant");

export const retryDeadLetter = action(async (form: FormData): Promise<FormResult> => {
  "use server";
  requireChangeRequest();
  const identity = await requireOperator();
  const parsed = parseForm(deadLetterRetrySchema, form);
  if (!parsed.ok) return parsed.result;
  const tenant = await tenantFor(identity, parsed.data.instanceId);
  if (!tenant) return failure("No such tenant.");
  const queue = await reconcileQueue();
  const letter = (await queue.deadLetters()).find(
    (d) => d.id === parsed.data.deadLetterId && d.customerKey === tenant.customer.stripeCustomerId,
  );
  if (!letter)
    return failure("That failed job is no longer waiting (already retried?).", {
      deadLetterId: "Not found.",
    });
  await audit(servicePool(), {
    actor: actorOf(identity),
    actorUserId: identity.userId,
    customerId: tenant.customer.id,
    instanceId: tenant.instance.id,
    action: "operator.retry_job",
    reason: parsed.data.reason,
    details: { deadLetter: letter.id, error: letter.error },
  });
  await queue.retryDeadLetter(letter.id, actorOf(identity));
  return { ok: true, message: "Job queued again." };
}, "retryDeadLetter");
