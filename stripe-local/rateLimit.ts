/**
 * Stripe's rate limiter, as a control: requests to `/v1/` beyond `perSecond` (a token bucket that
 * holds one second's worth, at least one request) are answered 429 with Stripe's `rate_limit` error, so a client's
 * backoff can be tested against the real answer. Off unless asked for (`rateLimit` option or
 * `setRateLimit`).
 */
import { StripeApiError } from "./errors.ts";

export interface RateLimitSettings {
  /** Requests a second (Stripe's default is 100 in live mode, 25 in test mode). */
  readonly perSecond: number;
  /** Seconds to put in a `Retry-After` header; none by default, as Stripe's own 429s carry none. */
  readonly retryAfterSeconds?: number;
}

export class RequestRateLimiter {
  #settings: RateLimitSettings | null = null;
  #tokens = 0;
  #refilledAt = 0;
  /** 429s answered so far. */
  limited = 0;

  readonly now: () => number;

  constructor(settings: RateLimitSettings | null = null, now = () => performance.now()) {
    this.now = now;
    this.set(settings);
  }

  set(settings: RateLimitSettings | null): void {
    if (settings && !(settings.perSecond > 0))
      throw new RangeError(
        `the rate limit must be a positive number of requests a second, got ${settings.perSecond}`,
      );
    this.#settings = settings;
    this.#tokens = settings ? capacity(settings) : 0;
    this.#refilledAt = this.now();
  }

  /** Takes one request's token, or throws Stripe's 429 (with its headers in `headers`). */
  take(headers: Record<string, string>): void {
    const settings = this.#settings;
    if (!settings) return;
    const now = this.now();
    this.#tokens = Math.min(
      capacity(settings),
      this.#tokens + ((now - this.#refilledAt) / 1000) * settings.perSecond,
    );
    this.#refilledAt = now;
    if (this.#tokens >= 1) {
      this.#tokens -= 1;
      return;
    }
    this.limited += 1;
    if (settings.retryAfterSeconds !== undefined) headers["retry-after"] = String(settings.retryAfterSeconds);
    throw new StripeApiError(429, {
      type: "invalid_request_error",
      code: "rate_limit",
      message:
        "Request rate limit exceeded. You can learn more about rate limits here https://stripe.com/docs/rate-limits.",
    });
  }
}

function capacity(settings: RateLimitSettings): number {
  return Math.max(1, settings.perSecond);
}
