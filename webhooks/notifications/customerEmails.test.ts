/**
 * Which email a reconcile owes, decided purely from what it records (the
 * journeys through the worker, with the outbox rows they leave, are in
 * webhooks/reconcile/worker.test.ts).
 */
import { describe, expect, test } from "vitest";
import {
  emailsAfterFailedOperation,
  emailsAfterOperation,
  emailsForDeletionSchedule,
  emailsForPaymentFailure,
  suspensionCause,
} from "./customerEmails.ts";

const customer = { id: "c1", email: "ada@example.com", displayName: "Ada" };
const instance = { id: "i1", slug: "ada-x1", tier: "starter", deletionDueAt: null, hold: null };
const at = new Date("2026-12-04T10:00:00.000Z");
const outputs = {
  urls: {
    app: "https://ada-x1.mindroom.test",
    api: "https://ada-x1.api.mindroom.test",
    matrix: "https://ada-x1.matrix.mindroom.test",
  },
};
const op = { operationId: "op1", instance, outputs, cause: "payment" as const, at };

describe("after a successful operation", () => {
  test("a first provisioning welcomes, keyed by the instance", () => {
    expect(emailsAfterOperation(customer, { ...op, verb: "provision" })).toEqual([
      {
        kind: "welcome",
        eventKey: "i1",
        facts: { name: "Ada", slug: "ada-x1", tier: "starter", email: "ada@example.com", urls: outputs.urls },
      },
    ]);
    // Without URLs there is nothing to welcome them to.
    expect(emailsAfterOperation(customer, { ...op, verb: "provision", outputs: null })).toEqual([]);
  });

  test("a suspension and a resume are keyed by their operation", () => {
    expect(emailsAfterOperation(customer, { ...op, verb: "suspend" })).toEqual([
      {
        kind: "suspended",
        eventKey: "op1",
        facts: {
          name: "Ada",
          slug: "ada-x1",
          tier: "starter",
          at: at.toISOString(),
          cause: "payment",
          reason: null,
        },
      },
    ]);
    expect(emailsAfterOperation(customer, { ...op, verb: "resume" })[0]).toMatchObject({
      kind: "resumed",
      eventKey: "op1",
      facts: { urls: { app: "https://ada-x1.mindroom.test" } },
    });
  });

  test("a cancelled tenant's suspension sends nothing more: its deletion notice said it", () => {
    const scheduled = { ...instance, deletionDueAt: new Date("2026-12-11T10:00:00Z") };
    expect(emailsAfterOperation(customer, { ...op, verb: "suspend", instance: scheduled })).toEqual([]);
  });

  test("a deletion is told once per instance; updates and restarts are not told", () => {
    expect(emailsAfterOperation(customer, { ...op, verb: "delete", outputs: null })).toMatchObject([
      { kind: "deleted", eventKey: "i1" },
    ]);
    expect(emailsAfterOperation(customer, { ...op, verb: "update" })).toEqual([]);
    expect(emailsAfterOperation(customer, { ...op, verb: "restart" })).toEqual([]);
  });

  test("a customer without a name is greeted by email", () => {
    const nameless = { ...customer, displayName: null };
    expect(emailsAfterOperation(nameless, { ...op, verb: "delete" })[0]?.facts).toMatchObject({
      name: "ada@example.com",
    });
  });
});

describe("after a failed operation", () => {
  const failed = { verb: "provision", instance, retryLimit: 5, at };
  test("a provisioning is delayed while retries remain, failed after the last", () => {
    expect(emailsAfterFailedOperation(customer, { ...failed, attempt: 0 })).toMatchObject([
      { kind: "provisioning_delayed", eventKey: "i1", facts: { at: at.toISOString(), nextAttemptAt: null } },
    ]);
    expect(emailsAfterFailedOperation(customer, { ...failed, attempt: 5 })).toMatchObject([
      { kind: "provisioning_failed", eventKey: "i1" },
    ]);
  });

  test("other failures are the operators' business, not the customer's", () => {
    for (const verb of ["update", "suspend", "resume", "delete", "restart"])
      expect(emailsAfterFailedOperation(customer, { ...failed, verb, attempt: 5 })).toEqual([]);
  });
});

test("a deletion schedule change is told with its dates, keyed by the change", () => {
  const after = { ...instance, deletionDueAt: new Date("2026-12-11T10:00:00.000Z") };
  expect(emailsForDeletionSchedule(customer, { after, endedAt: at, changeId: "42" })).toEqual([
    {
      kind: "deletion_scheduled",
      eventKey: "deletion:42",
      facts: {
        name: "Ada",
        slug: "ada-x1",
        tier: "starter",
        at: "2026-12-04T10:00:00.000Z",
        deletionDueAt: "2026-12-11T10:00:00.000Z",
      },
    },
  ]);
  // A cancelled deletion is told by the resume that follows it.
  expect(emailsForDeletionSchedule(customer, { after: instance, endedAt: at, changeId: "43" })).toEqual([]);
});

test("a failed payment is told once per subscription and billing period, only while past due", () => {
  const sub = {
    id: "sub_1",
    status: "past_due" as const,
    currentPeriodEnd: new Date("2027-01-04T10:00:00.000Z"),
  };
  expect(emailsForPaymentFailure(customer, instance, sub, at)).toEqual([
    {
      kind: "payment_failed",
      eventKey: "sub_1:2027-01-04T10:00:00.000Z",
      facts: {
        name: "Ada",
        slug: "ada-x1",
        tier: "starter",
        at: "2026-12-04T10:00:00.000Z",
        periodEnd: "2027-01-04T10:00:00.000Z",
      },
    },
  ]);
  for (const status of ["active", "unpaid", "canceled", "trialing"] as const)
    expect(emailsForPaymentFailure(customer, instance, { ...sub, status }, at)).toEqual([]);
  // Nothing provisioned yet: nothing running to warn about.
  expect(emailsForPaymentFailure(customer, null, sub, at)).toEqual([]);
});

test("suspension causes: an operator's hold first, then the payment, else the subscription", () => {
  expect(suspensionCause({ hold: { since: at, reason: "x" } }, "unpaid")).toBe("hold");
  expect(suspensionCause({ hold: null }, "unpaid")).toBe("payment");
  expect(suspensionCause({ hold: null }, "past_due")).toBe("payment");
  expect(suspensionCause({ hold: null }, "paused")).toBe("subscription");
  expect(suspensionCause({ hold: null }, null)).toBe("subscription");
});
