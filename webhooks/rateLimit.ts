/**
 * Per-source rate limiting: a token bucket per client address (behind trusted proxies, the address
 * they recorded: net/clientAddress.ts; IPv6 by /64), refilled continuously. A request takes one
 * token; an empty bucket answers 429 with `Retry-After` (whole seconds until a token is back).
 * Stripe treats 429 like any failure and retries later, so a limit costs latency, never an event.
 * In memory and per process, on purpose: it protects this process from a flood, and a database
 * write per request is what a flood must not cost; with N replicas a source gets N times the
 * rate, which stays bounded. (The portal's limits on sign-in and mail must hold across processes
 * and live in Postgres: database/rateLimits.ts.)
 */
import type { Middleware } from "koa";
import { addressBucket } from "../net/clientAddress.ts";

export interface RateLimitSettings {
  /** Tokens added per second per source. */
  readonly perSecond: number;
  /** Bucket size: the burst a source may send at once. */
  readonly burst: number;
}

export interface RateDecision {
  readonly allowed: boolean;
  /** Seconds until the next token, when not allowed (at least 1). */
  readonly retryAfterSeconds: number;
}

interface Bucket {
  tokens: number;
  updatedMs: number;
}

/** Buckets idle long enough to be full again are forgotten, so the map stays small. */
const SWEEP_EVERY = 1024;

export class TokenBuckets {
  readonly #settings: RateLimitSettings;
  readonly #buckets = new Map<string, Bucket>();
  #takes = 0;

  constructor(settings: RateLimitSettings) {
    if (!(settings.perSecond > 0) || !(settings.burst >= 1))
      throw new RangeError(
        `rate limit needs perSecond > 0 and burst >= 1, got ${settings.perSecond}/${settings.burst}`,
      );
    this.#settings = settings;
  }

  get size(): number {
    return this.#buckets.size;
  }

  take(key: string, nowMs: number = performance.now()): RateDecision {
    const { perSecond, burst } = this.#settings;
    if (++this.#takes % SWEEP_EVERY === 0) this.#sweep(nowMs);
    const bucket = this.#buckets.get(key) ?? { tokens: burst, updatedMs: nowMs };
    bucket.tokens = Math.min(burst, bucket.tokens + ((nowMs - bucket.updatedMs) / 1000) * perSecond);
    bucket.updatedMs = nowMs;
    this.#buckets.set(key, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return { allowed: true, retryAfterSeconds: 0 };
    }
    return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - bucket.tokens) / perSecond)) };
  }

  #sweep(nowMs: number): void {
    const { perSecond, burst } = this.#settings;
    for (const [key, bucket] of this.#buckets) {
      if (bucket.tokens + ((nowMs - bucket.updatedMs) / 1000) * perSecond >= burst) this.#buckets.delete(key);
    }
  }
}

/** Koa middleware: one token per request from the client address (`ctx.state.clientAddress`, set by the app). */
export function rateLimit(buckets: TokenBuckets): Middleware {
  return async (ctx, next) => {
    const decision = buckets.take(addressBucket(String(ctx.state.clientAddress ?? ctx.ip ?? "unknown")));
    if (!decision.allowed) {
      ctx.status = 429;
      ctx.set("Retry-After", String(decision.retryAfterSeconds));
      ctx.body = {
        error: {
          code: "rate_limited",
          message: `too many requests from this address; retry after ${decision.retryAfterSeconds} s`,
        },
      };
      ctx.state.outcome = "rate_limited";
      return;
    }
    await next();
  };
}
