/**
 * Getting into MindRoom from the portal: single sign-on into the dashboard (the `/sso/mindroom`
 * route, and what the dashboard says when that route sends someone back), the customer's Matrix
 * account, their model keys and their bridges.
 */
import { action, query } from "@solidjs/router";
import { z } from "zod";
import { BRIDGE_KINDS } from "../../../components/bridges.ts";
import { PROVIDERS } from "../../../components/modelProviders.ts";
import { UNLIMITED, withinLimit } from "../../../components/tiers.ts";
import { audit } from "../../../database/auditLog.ts";
import { setBridges } from "../../../database/instances.ts";
import {
  findMatrixAccount,
  recordMatrixAccount,
  recordPasswordReset,
} from "../../../database/matrixAccounts.ts";
import { removeProviderKey, setProviderKey } from "../../../database/providerKeys.ts";
import { seal } from "../../../database/sealedSecrets.ts";
import { transaction } from "../../../database/transaction.ts";
import { asPerson, servicePool } from "../server/database.ts";
import { failure, parseForm } from "../server/forms.ts";
import { type Identity, requireIdentity } from "../server/identity.ts";
import { MatrixAccountError, registerAccount, resetPassword } from "../server/matrixRegistration.ts";
import { homeserverOf, type MindRoomSetup, mindroomSetup } from "../server/mindroomSetup.ts";
import { type OwnTenant, ownTenant } from "../server/ownTenant.ts";
import { auditAndEnqueue } from "../server/reconcileQueue.ts";
import { portalSettings } from "../server/settings.ts";
import type { FormResult } from "./formResult.ts";

/** Why `/sso/mindroom` sent the person back to the dashboard (its `?sso=` value), in their words. */
export const SSO_NOTICES = {
  unavailable: "Single sign-on is not configured on this platform yet. Please contact support.",
  "no-instance": "You have no MindRoom instance yet: choose a plan first.",
  "not-running": "Your MindRoom is not running right now, so there is nothing to sign in to yet.",
  "not-ready":
    "Your MindRoom is still being prepared for single sign-on. Try again in a minute; the dashboard updates by itself.",
} as const;

export const getMindRoomSetup = query(async (): Promise<MindRoomSetup> => {
  "use server";
  return mindroomSetup(await requireIdentity());
}, "mindroomSetup");

const newPassword = z
  .string({ error: "Choose a password." })
  .min(12, "Use at least 12 characters.")
  .max(256, "Passwords are limited to 256 characters.");

const accountSchema = z
  .object({
    username: z.string({ error: "Choose a username." }).trim().min(1, "Choose a username."),
    password: newPassword,
    confirm: z.string({ error: "Repeat the password." }),
  })
  .refine((v) => v.password === v.confirm, { path: ["confirm"], message: "The two passwords do not match." });

const resetSchema = z
  .object({ password: newPassword, confirm: z.string({ error: "Repeat the password." }) })
  .refine((v) => v.password === v.confirm, { path: ["confirm"], message: "The two passwords do not match." });

const keySchema = z.object({
  provider: z.enum(PROVIDERS, { error: "Choose a provider." }),
  key: z
    .string({ error: "Paste the key." })
    .trim()
    .regex(/^[\x21-\x7e]{16,300}$/, "Paste the whole key: 16 to 300 characters, no spaces."),
});

const removeKeySchema = z.object({ provider: z.enum(PROVIDERS, { error: "Choose a provider." }) });

const bridgeSchema = z.object({
  bridge: z.enum(BRIDGE_KINDS, { error: "Choose a bridge." }),
  enable: z.enum(["true", "false"], { error: "Choose enable or disable." }),
});

/** The signed-in customer's running tenant, or why the action cannot run yet. */
async function runningTenant(identity: Identity): Promise<OwnTenant | FormResult> {
  const tenant = await ownTenant(identity);
  if (!tenant) return failure("You have no MindRoom instance yet: choose a plan first.");
  if (tenant.actualState !== "running")
    return failure(`Your instance is ${tenant.actualState}; this works once it is running.`);
  return tenant;
}

const isTenant = (t: OwnTenant | FormResult): t is OwnTenant => "instanceId" in t;
const actorOf = (identity: Identity) => `customer:${identity.email}`;

function matrixFailure(error: unknown): FormResult {
  if (!(error instanceof MatrixAccountError)) throw error;
  return failure(error.message, error.field ? { [error.field]: error.message } : {});
}

export const createMatrixAccount = action(async (form: FormData): Promise<FormResult> => {
  "use server";
  const identity = await requireIdentity();
  const parsed = parseForm(accountSchema, form);
  if (!parsed.ok) return parsed.result;
  const tenant = await runningTenant(identity);
  if (!isTenant(tenant)) return tenant;
  const accessKey = portalSettings().tenantAccessKey;
  const server = homeserverOf(tenant);
  if (!accessKey || !server) return failure("Matrix accounts are not available on this platform yet.");
  const existing = await asPerson(identity.claims, (db) => findMatrixAccount(db, tenant.instanceId));
  if (existing)
    return failure(`You already have ${existing.matrixUserId}; reset its password below instead.`);
  let userId: string;
  try {
    userId = await registerAccount(server, accessKey, parsed.data);
  } catch (error) {
    return matrixFailure(error);
  }
  await transaction(servicePool(), async (tx) => {
    await recordMatrixAccount(tx, tenant.instanceId, userId);
    await audit(tx, {
      actor: actorOf(identity),
      actorUserId: identity.userId,
      customerId: tenant.customerId,
      instanceId: tenant.instanceId,
      action: "customer.matrix_account",
      reason: "Matrix account created from the portal",
      details: { matrixUserId: userId },
    });
  });
  return {
    ok: true,
    message: `Your Matrix account ${userId} is ready. Sign in with it in any Matrix client.`,
  };
}, "createMatrixAccount");

export const resetMatrixPassword = action(async (form: FormData): Promise<FormResult> => {
  "use server";
  const identity = await requireIdentity();
  const parsed = parseForm(resetSchema, form);
  if (!parsed.ok) return parsed.result;
  const tenant = await runningTenant(identity);
  if (!isTenant(tenant)) return tenant;
  const accessKey = portalSettings().tenantAccessKey;
  const server = homeserverOf(tenant);
  const account = await asPerson(identity.claims, (db) => findMatrixAccount(db, tenant.instanceId));
  if (!accessKey || !server || !account) return failure("Create your Matrix account first.");
  try {
    await resetPassword(server, accessKey, account.matrixUserId, parsed.data.password);
  } catch (error) {
    return matrixFailure(error);
  }
  await transaction(servicePool(), async (tx) => {
    await recordPasswordReset(tx, tenant.instanceId);
    await audit(tx, {
      actor: actorOf(identity),
      actorUserId: identity.userId,
      customerId: tenant.customerId,
      instanceId: tenant.instanceId,
      action: "customer.matrix_password_reset",
      reason: "Matrix password reset from the portal",
      details: { matrixUserId: account.matrixUserId },
    });
  });
  return { ok: true, message: "Password changed. Your other Matrix sessions were signed out." };
}, "resetMatrixPassword");

/** Model keys and bridges change the tenant: recorded with their audit row and a reconcile job. */
async function changeTenant(
  identity: Identity,
  tenant: OwnTenant,
  what: { action: string; reason: string; details: Record<string, unknown> },
  change: Parameters<typeof auditAndEnqueue>[2],
): Promise<FormResult | undefined> {
  if (!tenant.stripeCustomerId)
    return failure("Your billing account is not set up yet: choose a plan first.");
  const actor = actorOf(identity);
  await auditAndEnqueue(
    {
      actor,
      actorUserId: identity.userId,
      customerId: tenant.customerId,
      instanceId: tenant.instanceId,
      action: what.action,
      reason: what.reason,
      details: what.details,
    },
    { customerKey: tenant.stripeCustomerId, trigger: "customer", reason: what.reason, requestedBy: actor },
    change,
  );
  return undefined;
}

export const saveModelKey = action(async (form: FormData): Promise<FormResult> => {
  "use server";
  const identity = await requireIdentity();
  const parsed = parseForm(keySchema, form);
  if (!parsed.ok) return parsed.result;
  const publicKey = portalSettings().providerKeysPublicKey;
  if (!publicKey) return failure("Model keys cannot be entered on this platform yet.");
  const tenant = await ownTenant(identity);
  if (!tenant) return failure("You have no MindRoom instance yet: choose a plan first.");
  const { provider, key } = parsed.data;
  // Sealed here, opened only by the worker: from now on the portal cannot read it back.
  const sealed = seal(publicKey, key);
  const last4 = key.slice(-4);
  const refused = await changeTenant(
    identity,
    tenant,
    {
      action: "customer.model_key.set",
      reason: `${provider} key set by the customer`,
      details: { provider, last4 },
    },
    (tx) => setProviderKey(tx, { customerId: tenant.customerId, provider, sealed, last4 }),
  );
  return refused ?? { ok: true, message: `Saved. Your agents get the new ${provider} key within a minute.` };
}, "saveModelKey");

export const deleteModelKey = action(async (form: FormData): Promise<FormResult> => {
  "use server";
  const identity = await requireIdentity();
  const parsed = parseForm(removeKeySchema, form);
  if (!parsed.ok) return parsed.result;
  const tenant = await ownTenant(identity);
  if (!tenant) return failure("You have no MindRoom instance yet.");
  const { provider } = parsed.data;
  const refused = await changeTenant(
    identity,
    tenant,
    {
      action: "customer.model_key.removed",
      reason: `${provider} key removed by the customer`,
      details: { provider },
    },
    (tx) => removeProviderKey(tx, tenant.customerId, provider),
  );
  return refused ?? { ok: true, message: `Removed. Your agents lose the ${provider} key within a minute.` };
}, "deleteModelKey");

export const setBridge = action(async (form: FormData): Promise<FormResult> => {
  "use server";
  const identity = await requireIdentity();
  const parsed = parseForm(bridgeSchema, form);
  if (!parsed.ok) return parsed.result;
  const tenant = await runningTenant(identity);
  if (!isTenant(tenant)) return tenant;
  const { bridge, enable } = parsed.data;
  const next =
    enable === "true"
      ? [...new Set([...tenant.bridges, bridge])]
      : tenant.bridges.filter((b) => b !== bridge);
  const setup = await mindroomSetup(identity);
  if (enable === "true" && !withinLimit(next.length, setup.bridgeLimit))
    return failure(
      setup.bridgeLimit === 0
        ? "Your plan includes no bridges: upgrade to add one."
        : `Your plan includes ${setup.bridgeLimit === UNLIMITED ? "any number of" : setup.bridgeLimit} bridge${setup.bridgeLimit === 1 ? "" : "s"}: disable one first, or upgrade.`,
    );
  const refused = await changeTenant(
    identity,
    tenant,
    {
      action: enable === "true" ? "customer.bridge.enabled" : "customer.bridge.disabled",
      reason: `${bridge} bridge ${enable === "true" ? "enabled" : "disabled"} by the customer`,
      details: { bridge },
    },
    (tx) => setBridges(tx, tenant.instanceId, next),
  );
  return (
    refused ?? {
      ok: true,
      message: enable === "true" ? "Bridge enabled: it starts within a minute." : "Bridge disabled.",
    }
  );
}, "setBridge");
