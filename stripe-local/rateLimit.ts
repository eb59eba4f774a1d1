/**
 * Stripe's rate limiter, as a control: requests to `/v1/` beyond `perSecond` (a token bucket that
 * holds one second's worth, at least one request) are answered 429 with Stripe's `rate_limit` error, so a client's
 * backoff can be tested against the real answer. Off unless asked for (`rateLimit` option or
 * `setRateLimit`).
 */
import { TokenBuckets } from "../webhooks/rateLimit.ts";
import { StripeApiError } from "./errors.ts";

export interface RateLimitSettings {
  /** Requests a second (Stripe's default is 100 in live mode, 25 in test mode). */
  readonly perSecond: number;
  /** Seconds to put in a `Retry-After` header; none by default, as Stripe's own 429s carry none. */
  readonly retryAfterSeconds?: number;
}

/** The whole API shares one bucket (the webhook service's token buckets, under one key). */
const API = "v1";

export class RequestRateLimiter {
  #settings: RateLimitSettings | null = null;
  #buckets: TokenBuckets | null = null;
  /** 429s answered so far. */
  limited = 0;

  readonly now: () => number;

  constructor(settings: RateLimitSettings | null = null, now = () => performance.now()) {
    this.now = now;
    this.set(settings);
  }

  /** A new limit starts with a full bucket; null turns it off. */
  set(settings: RateLimitSettings | null): void {
    this.#buckets = settings
      ? new TokenBuckets({ perSecond: settings.perSecond, burst: Math.max(1, settings.perSecond) })
      : null;
    this.#settings = settings;
  }

  /** Takes one request's token, or throws Stripe's 429 (with its headers in `headers`). */
  take(headers: Record<string, string>): void {
    if (!this.#buckets || this.#buckets.take(API, this.now()).allowed) return;
    this.limited += 1;
    const retryAfter = this.#settings?.retryAfterSeconds;
    if (retryAfter !== undefined) headers["retry-after"] = String(retryAfter);
    throw new StripeApiError(429, {
      type: "invalid_request_error",
      code: "rate_limit",
      message:
        "Request rate limit exceeded. You can learn more about rate limits here https://stripe.com/docs/rate-limits.",
    });
  }
}
