/**
 * The emails a reconcile owes the customer. Pure decisions (which email, its
 * event key, its facts) from what the worker is about to record, and one
 * writer that queues them on the transaction recording it (mail/README.md):
 * the email and the state change that causes it commit together or not at
 * all, and the key makes a repeated decision a no-op.
 *
 * Keys: the instance for one-time emails (welcome, provisioning trouble,
 * deleted), the operation for a suspension or a resume, the audit entry of a
 * deletion schedule change, the subscription and billing period for a failed
 * payment, the metric, threshold and quota period for a quota warning.
 */
import type { Queryable } from "../../database/connection.ts";
import { queueEmail } from "../../database/emailOutbox.ts";
import type { Instance } from "../../database/instances.ts";
import type { SubscriptionStatus } from "../../database/subscriptions.ts";
import type { MailFacts, MailKind } from "../../mail/messages.ts";
import { formatFigure, type QuotaWarning, quotaPeriod } from "../usage/quotaWarnings.ts";

/** One email to queue: its kind, what makes it unique, what it says. */
export type CustomerEmail = {
  readonly [K in MailKind]: { readonly kind: K; readonly eventKey: string; readonly facts: MailFacts<K> };
}[MailKind];

/** Who it goes to. No address, no email. */
export interface Recipient {
  readonly id: string;
  readonly email: string | null;
  readonly displayName: string | null;
}

type InstanceFacts = Pick<Instance, "slug" | "tier">;

function about(customer: Recipient, instance: InstanceFacts) {
  return {
    name: customer.displayName || customer.email || "there",
    slug: instance.slug,
    tier: instance.tier,
  };
}

/** The instance's public URLs from its stack outputs, when they are there. */
function urlsOf(outputs: unknown): { app: string; api: string; matrix: string } | null {
  const urls = (outputs as { urls?: Record<string, unknown> } | null)?.urls;
  if (
    !urls ||
    typeof urls.app !== "string" ||
    typeof urls.api !== "string" ||
    typeof urls.matrix !== "string"
  )
    return null;
  return { app: urls.app, api: urls.api, matrix: urls.matrix };
}

/** Why a tenant was suspended, as its email explains it. */
export type SuspensionCause = MailFacts<"suspended">["cause"];

export function suspensionCause(
  instance: Pick<Instance, "hold">,
  subscriptionStatus: SubscriptionStatus | null,
): SuspensionCause {
  if (instance.hold) return "hold";
  return subscriptionStatus === "unpaid" || subscriptionStatus === "past_due" ? "payment" : "subscription";
}

export interface SucceededOperation {
  /** The audit verb of the operation (jobDecisions.ts `verbFor`). */
  readonly verb: string;
  readonly operationId: string;
  /** The instance as recorded before the operation finished (its deletion date, its hold). */
  readonly instance: Pick<Instance, "id" | "slug" | "tier" | "deletionDueAt" | "hold">;
  /** The operation's stack outputs (null after a destroy). */
  readonly outputs: unknown;
  readonly cause: SuspensionCause;
  readonly at: Date;
}

/** What a successful operation tells the customer. */
export function emailsAfterOperation(customer: Recipient, op: SucceededOperation): CustomerEmail[] {
  const base = about(customer, op.instance);
  const at = op.at.toISOString();
  const urls = urlsOf(op.outputs);
  switch (op.verb) {
    case "provision":
      return urls
        ? [
            {
              kind: "welcome",
              eventKey: op.instance.id,
              facts: { ...base, email: customer.email ?? "", urls },
            },
          ]
        : [];
    case "resume":
      return [
        {
          kind: "resumed",
          eventKey: op.operationId,
          facts: { ...base, at, urls: urls ? { app: urls.app } : null },
        },
      ];
    case "suspend":
      // A cancelled subscription's email is the deletion notice, which says the instance is stopped.
      if (op.instance.deletionDueAt) return [];
      return [
        {
          kind: "suspended",
          eventKey: op.operationId,
          facts: { ...base, at, cause: op.cause, reason: op.instance.hold?.reason ?? null },
        },
      ];
    case "delete":
      return [{ kind: "deleted", eventKey: op.instance.id, facts: { ...base, at } }];
    default:
      return [];
  }
}

export interface FailedOperation {
  readonly verb: string;
  readonly instance: Pick<Instance, "id" | "slug" | "tier">;
  /** Retries so far (0 on the first attempt) and the most there will be. */
  readonly attempt: number;
  readonly retryLimit: number;
  readonly at: Date;
}

/** A first provisioning that failed: "delayed" while retries remain, "failed" after the last. */
export function emailsAfterFailedOperation(customer: Recipient, op: FailedOperation): CustomerEmail[] {
  if (op.verb !== "provision") return [];
  const facts = { ...about(customer, op.instance), at: op.at.toISOString() };
  return op.attempt >= op.retryLimit
    ? [{ kind: "provisioning_failed", eventKey: op.instance.id, facts }]
    : [{ kind: "provisioning_delayed", eventKey: op.instance.id, facts: { ...facts, nextAttemptAt: null } }];
}

/** A deletion newly scheduled or moved (`changeId` identifies that change: its audit entry). */
export function emailsForDeletionSchedule(
  customer: Recipient,
  change: {
    readonly after: Pick<Instance, "id" | "slug" | "tier" | "deletionDueAt">;
    readonly endedAt: Date;
    readonly changeId: string;
  },
): CustomerEmail[] {
  const due = change.after.deletionDueAt;
  if (!due) return [];
  return [
    {
      kind: "deletion_scheduled",
      eventKey: `deletion:${change.changeId}`,
      facts: {
        ...about(customer, change.after),
        at: change.endedAt.toISOString(),
        deletionDueAt: due.toISOString(),
      },
    },
  ];
}

/** A subscription past due: one email per billing period, whenever the worker first sees it. */
export function emailsForPaymentFailure(
  customer: Recipient,
  instance: InstanceFacts | null,
  subscription: {
    readonly id: string;
    readonly status: SubscriptionStatus;
    readonly currentPeriodEnd: Date | null;
  },
  at: Date,
): CustomerEmail[] {
  if (subscription.status !== "past_due" || !instance) return [];
  const period = subscription.currentPeriodEnd?.toISOString() ?? "none";
  return [
    {
      kind: "payment_failed",
      eventKey: `${subscription.id}:${period}`,
      facts: {
        ...about(customer, instance),
        at: at.toISOString(),
        periodEnd: subscription.currentPeriodEnd?.toISOString() ?? null,
      },
    },
  ];
}

/** Quota thresholds reached by a day's figures: once per metric, threshold and quota period. */
export function quotaWarningEmails(
  customer: Recipient,
  instance: Pick<Instance, "id" | "slug" | "tier">,
  warnings: readonly QuotaWarning[],
  when: { readonly day: string; readonly periodEnd: Date | null },
): CustomerEmail[] {
  return warnings.map((w) => ({
    kind: "quota_warning",
    eventKey: `${instance.id}:${w.metric}:${w.percent}:${quotaPeriod(w.metric, when.day, when.periodEnd)}`,
    facts: {
      ...about(customer, instance),
      metric: w.metric,
      percent: w.percent,
      used: formatFigure(w.metric, w.used),
      limit: formatFigure(w.metric, w.limit),
      day: when.day,
    },
  }));
}

/** Queues `emails` on the caller's transaction; returns how many were new. */
export async function queueCustomerEmails(
  tx: Queryable,
  customer: Recipient,
  instanceId: string | null,
  emails: readonly CustomerEmail[],
): Promise<number> {
  if (!customer.email) return 0;
  let queued = 0;
  for (const email of emails) {
    const result = await queueEmail(tx, {
      customerId: customer.id,
      instanceId,
      kind: email.kind,
      eventKey: email.eventKey,
      recipient: customer.email,
      facts: email.facts as Record<string, unknown>,
    });
    if (result.queued) queued += 1;
  }
  return queued;
}
