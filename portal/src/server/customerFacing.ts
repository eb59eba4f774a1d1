/**
 * What a customer may see of their own records, and the one place where the platform's errors
 * become plain language for them. The rows (customerView.ts) hold what operators need: the host's
 * SSH address, the engine's raw error (Pulumi diagnostics, stack traces), who asked for an
 * operation (an operator's email) and why in their words, the spec's hashes. None of it leaves the
 * server towards a customer: every customer page, server function, API route and the data export
 * goes through these functions. Operators keep reading the rows as they are (operatorView.ts).
 */
import { type TenantUrls, tenantUrls } from "../components/outputs.ts";
import type {
  CustomerRow,
  CustomerView,
  InstanceRow,
  OperationRow,
  SubscriptionRow,
  UsageRow,
} from "./customerView.ts";

/** The small set of things that can have gone wrong, as customers read them. */
export const CUSTOMER_PROBLEMS = {
  refused:
    "A safety check stopped this change before anything was touched. Our team has been notified and will sort it out.",
  unreachable:
    "We could not reach the server your instance runs on. Nothing was lost; we try again automatically.",
  timeout: "This change took too long and was stopped. Nothing was lost; we try again automatically.",
  interrupted: "This change was interrupted and will run again.",
  failed: "This change could not be completed. Our team has been notified; you can also run it again.",
} as const;

export type CustomerProblem = keyof typeof CUSTOMER_PROBLEMS;

/** Which of the customer problems a raw error (an operation's or an instance's) is. */
export function problemKind(raw: string): CustomerProblem {
  if (/^policy |policy violation/im.test(raw)) return "refused";
  if (/interrupted/i.test(raw)) return "interrupted";
  if (/^Timeout\b|exceeded its time limit|timed? ?out/im.test(raw)) return "timeout";
  if (
    /\bssh\b|ECONNREFUSED|ECONNRESET|EHOSTUNREACH|ENETUNREACH|connection (refused|reset|closed|lost)|handshake|no route to host|dial tcp/i.test(
      raw,
    )
  )
    return "unreachable";
  return "failed";
}

export function customerProblem(raw: string | null): string | null {
  return raw === null || raw.trim() === "" ? null : CUSTOMER_PROBLEMS[problemKind(raw)];
}

const REQUESTED_BY: Record<string, string> = {
  customer: "you",
  stripe: "a billing change",
  operator: "our support team",
  sweep: "a routine check",
  retry: "an automatic retry",
};

/** Who started an operation (its trigger), as the customer reads it: never an operator's name. */
export function requester(trigger: string | null): string {
  return REQUESTED_BY[trigger ?? ""] ?? "MindRoom Cloud";
}

export interface CustomerInstance
  extends Omit<InstanceRow, "host" | "outputs" | "lastError" | "specHash" | "appliedSpecHash"> {
  /** The addresses the customer uses (app, API, homeserver); nothing else from the stack. */
  readonly urls: TenantUrls;
  /** What went wrong last, in plain language. */
  readonly problem: string | null;
}

export interface CustomerOperation {
  readonly id: string;
  readonly kind: string;
  readonly status: string;
  /** "you", "a billing change", "our support team", … */
  readonly requestedBy: string;
  /** Steps done of the steps known, while it runs. */
  readonly progress: { readonly done: number; readonly total: number } | null;
  /** The same, as the timeline says it ("Step 3 of 12"). */
  readonly activity: string | null;
  readonly problem: string | null;
  readonly startedAt: string | null;
  readonly finishedAt: string | null;
  readonly durationMs: number | null;
  readonly createdAt: string;
}

export interface CustomerFacingView {
  readonly customer: CustomerRow | null;
  readonly subscription: SubscriptionRow | null;
  readonly instance: CustomerInstance | null;
  readonly operations: readonly CustomerOperation[];
  readonly usage: UsageRow | null;
}

export function customerInstance(row: InstanceRow): CustomerInstance {
  const { host: _host, outputs, lastError, specHash: _spec, appliedSpecHash: _applied, ...kept } = row;
  return { ...kept, urls: tenantUrls(outputs), problem: customerProblem(lastError) };
}

export function customerOperation(row: OperationRow): CustomerOperation {
  const p = row.progress;
  const progress =
    row.status === "running" && p && typeof p.total === "number" && p.total > 0
      ? { done: Math.min(p.done ?? 0, p.total), total: p.total }
      : null;
  return {
    id: row.id,
    kind: row.kind,
    status: row.status,
    requestedBy: requester(row.trigger),
    progress,
    activity: progress ? `Step ${progress.done} of ${progress.total}` : null,
    problem: row.status === "failed" ? (customerProblem(row.error) ?? CUSTOMER_PROBLEMS.failed) : null,
    startedAt: row.startedAt,
    finishedAt: row.finishedAt,
    durationMs: row.durationMs,
    createdAt: row.createdAt,
  };
}

export function forCustomer(view: CustomerView): CustomerFacingView {
  return {
    customer: view.customer,
    subscription: view.subscription,
    instance: view.instance ? customerInstance(view.instance) : null,
    operations: view.operations.map(customerOperation),
    usage: view.usage,
  };
}

/** An audit row's actor as the customer reads it: themselves, our team, or the platform. */
export function customerActor(actor: string): string {
  if (actor.startsWith("customer:")) return "you";
  if (actor.startsWith("operator:")) return "our support team";
  return actor === "stripe" ? "billing" : "MindRoom Cloud";
}
