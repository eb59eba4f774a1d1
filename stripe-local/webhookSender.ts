/**
 * Delivers events to the registered webhook endpoints the way Stripe does:
 * asynchronously, one POST per event and endpoint, signed at send time with
 * the endpoint's secret (`Stripe-Signature: t=…,v1=…`), any non-2xx or timeout
 * retried with backoff (seconds here, days at Stripe), the outcome recorded
 * per event so `GET /v1/events?delivery_success=false` finds what is pending or failed.
 */
import { eventTypeMatches, type StripeEvent, signedDelivery } from "./events.ts";
import { nowSeconds } from "./ids.ts";
import type { EndpointDelivery, StateData } from "./state.ts";

export interface DeliveryAttempt {
  eventId: string;
  type: string;
  endpointId: string;
  url: string;
  attempt: number;
  /** HTTP status, or null when the request failed (refused, timed out). */
  status: number | null;
  error: string | null;
  at: string;
}

export interface SenderOptions {
  /** Wait before each retry; its length is the number of retries. Default 0.5 s doubling to 16 s. */
  retryDelaysMs?: readonly number[];
  timeoutMs?: number;
  /** When false, events are recorded but only sent by {@link WebhookSender.deliverPending}. */
  autoDeliver?: boolean;
  onChange?: () => void;
}

const DEFAULT_RETRY_DELAYS_MS = [500, 1000, 2000, 4000, 8000, 16000];
const LOG_LIMIT = 1000;

export class WebhookSender {
  readonly attempts: DeliveryAttempt[] = [];
  private readonly state: StateData;
  private readonly retryDelaysMs: readonly number[];
  private readonly timeoutMs: number;
  private readonly onChange: () => void;
  autoDeliver: boolean;
  /** Per endpoint, so first attempts go out in the order the events happened. */
  private readonly chains = new Map<string, Promise<void>>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private busy = 0;
  private waiters: (() => void)[] = [];
  private stopped = false;

  constructor(state: StateData, options: SenderOptions = {}) {
    this.state = state;
    this.retryDelaysMs = options.retryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS;
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.autoDeliver = options.autoDeliver ?? true;
    this.onChange = options.onChange ?? (() => undefined);
  }

  /** Records which endpoints must receive `event` and sends it unless delivery is manual. */
  enqueue(event: StripeEvent): void {
    const targets: Record<string, EndpointDelivery> = {};
    for (const endpoint of Object.values(this.state.webhookEndpoints)) {
      if (endpoint.status !== "enabled") continue;
      if (!endpoint.enabled_events.some((p) => eventTypeMatches(p, event.type))) continue;
      targets[endpoint.id] = {
        attempts: 0,
        succeeded: false,
        failed: false,
        lastStatus: null,
        lastError: null,
        lastAttemptAt: null,
      };
    }
    this.state.deliveries[event.id] = targets;
    event.pending_webhooks = Object.keys(targets).length;
    if (this.autoDeliver)
      for (const endpointId of Object.keys(targets)) this.schedule(event.id, endpointId, 0);
  }

  /** Sends every delivery that has neither succeeded nor run out of retries. */
  deliverPending(): number {
    let count = 0;
    for (const [eventId, targets] of Object.entries(this.state.deliveries)) {
      for (const [endpointId, d] of Object.entries(targets)) {
        if (d.succeeded || d.failed) continue;
        this.schedule(eventId, endpointId, 0);
        count++;
      }
    }
    return count;
  }

  /** Resolves once nothing is being sent or waiting for a retry. */
  idle(): Promise<void> {
    if (this.busy === 0) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    await Promise.allSettled([...this.chains.values()]);
  }

  private schedule(eventId: string, endpointId: string, delayMs: number): void {
    if (this.stopped) return;
    this.busy++;
    const run = () => {
      const previous = this.chains.get(endpointId) ?? Promise.resolve();
      const next = previous.then(() => this.attempt(eventId, endpointId)).finally(() => this.release());
      this.chains.set(
        endpointId,
        next.catch(() => undefined),
      );
    };
    if (delayMs === 0) {
      run();
      return;
    }
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      run();
    }, delayMs);
    timer.unref();
    this.timers.add(timer);
  }

  private release(): void {
    this.busy--;
    if (this.busy > 0) return;
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  private async attempt(eventId: string, endpointId: string): Promise<void> {
    const event = this.state.events[eventId];
    const endpoint = this.state.webhookEndpoints[endpointId];
    const secret = this.state.endpointSecrets[endpointId];
    const delivery = this.state.deliveries[eventId]?.[endpointId];
    if (!event || !endpoint || !secret || !delivery || delivery.succeeded || this.stopped) return;
    const { body, headers } = signedDelivery(event, secret);
    let status: number | null = null;
    let error: string | null = null;
    try {
      const response = await fetch(endpoint.url, {
        method: "POST",
        headers,
        body,
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      status = response.status;
      await response.arrayBuffer();
      if (status < 200 || status >= 300) error = `HTTP ${status}`;
    } catch (e) {
      error =
        (e as Error).cause instanceof Error ? ((e as Error).cause as Error).message : (e as Error).message;
    }
    delivery.attempts++;
    delivery.lastStatus = status;
    delivery.lastError = error;
    delivery.lastAttemptAt = nowSeconds();
    this.attempts.push({
      eventId,
      type: event.type,
      endpointId,
      url: endpoint.url,
      attempt: delivery.attempts,
      status,
      error,
      at: new Date().toISOString(),
    });
    if (this.attempts.length > LOG_LIMIT) this.attempts.splice(0, this.attempts.length - LOG_LIMIT);
    if (error === null) {
      delivery.succeeded = true;
    } else {
      const wait = this.retryDelaysMs[delivery.attempts - 1];
      if (wait === undefined) delivery.failed = true;
      else this.schedule(eventId, endpointId, wait);
    }
    event.pending_webhooks = Object.values(this.state.deliveries[eventId] ?? {}).filter(
      (d) => !d.succeeded,
    ).length;
    this.onChange();
  }
}
