/**
 * A client for the local API's `/_local/…` controls (what Stripe drives by
 * time and card outcomes), used by tests and by `bin/mindroom-stripe journey`.
 */
import type Stripe from "stripe";
import type { ControlOptions, LifecycleControl } from "./lifecycle.ts";
import type { StateData } from "./state.ts";
import type { DeliveryAttempt } from "./webhookSender.ts";

export class LocalControlError extends Error {
  override readonly name = "LocalControlError";
  readonly status: number;
  constructor(message: string, status: number) {
    super(message);
    this.status = status;
  }
}

export interface LocalControls {
  paymentFailed(subscription: string): Promise<Stripe.Subscription>;
  retriesExhausted(subscription: string, outcome?: "unpaid" | "canceled"): Promise<Stripe.Subscription>;
  paymentSucceeded(subscription: string): Promise<Stripe.Subscription>;
  periodEnd(subscription: string): Promise<Stripe.Subscription>;
  trialEnd(subscription: string, options?: Omit<ControlOptions, "outcome">): Promise<Stripe.Subscription>;
  /** Completes a checkout as the hosted page would (card 4242… unless given). */
  completeCheckout(
    session: string,
    form?: { email?: string; name?: string; card_number?: string },
  ): Promise<{ session: Stripe.Checkout.Session; redirect: string | null }>;
  reset(): Promise<void>;
  state(): Promise<StateData>;
  deliverPending(): Promise<number>;
  /** Waits until no delivery is in flight or waiting for a retry. */
  idle(): Promise<void>;
  attempts(): Promise<DeliveryAttempt[]>;
}

export function localControls(apiBase: string, secretKey: string): LocalControls {
  const base = apiBase.replace(/\/$/, "");
  const call = async <T>(
    method: "GET" | "POST",
    path: string,
    form: Record<string, string> = {},
  ): Promise<T> => {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${secretKey}`,
        ...(method === "POST" ? { "content-type": "application/x-www-form-urlencoded" } : {}),
      },
      ...(method === "POST" ? { body: new URLSearchParams(form).toString() } : {}),
      signal: AbortSignal.timeout(70_000),
    });
    const body = (await response.json()) as T & { error?: { message?: string } };
    if (!response.ok)
      throw new LocalControlError(
        `${method} ${path} → ${response.status}: ${body.error?.message ?? JSON.stringify(body)}`,
        response.status,
      );
    return body;
  };
  const control = (name: LifecycleControl, id: string, form: Record<string, string> = {}) =>
    call<Stripe.Subscription>("POST", `/_local/subscriptions/${encodeURIComponent(id)}/${name}`, form);
  return {
    paymentFailed: (id) => control("payment_failed", id),
    retriesExhausted: (id, outcome) => control("retries_exhausted", id, outcome ? { outcome } : {}),
    paymentSucceeded: (id) => control("payment_succeeded", id),
    periodEnd: (id) => control("period_end", id),
    trialEnd: (id, options = {}) =>
      control("trial_end", id, {
        ...(options.paymentMethod ? { payment_method: options.paymentMethod } : {}),
        ...(options.missingPaymentMethod ? { missing_payment_method: options.missingPaymentMethod } : {}),
      }),
    completeCheckout: (id, form = {}) =>
      call(
        "POST",
        `/_local/checkout/sessions/${encodeURIComponent(id)}/complete`,
        form as Record<string, string>,
      ),
    reset: async () => {
      await call("POST", "/_local/reset");
    },
    state: () => call<StateData>("GET", "/_local/state"),
    deliverPending: async () => (await call<{ started: number }>("POST", "/_local/webhooks/deliver")).started,
    idle: async () => {
      await call("GET", "/_local/webhooks/idle");
    },
    attempts: () => call<DeliveryAttempt[]>("GET", "/_local/webhooks/attempts"),
  };
}
