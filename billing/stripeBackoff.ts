/**
 * Stripe's rate limits (100 requests a second in live mode, 25 in test mode): a request answered
 * 429 is tried again after the `Retry-After` Stripe gave, else after an exponential wait with full
 * jitter (so many callers limited together do not come back together), each wait bounded, the
 * attempts bounded. stripe-node retries network errors, 409 and 5xx itself but never a 429.
 */

export interface BackoffPolicy {
  /** Attempts in all, the first included. */
  readonly attempts: number;
  /** The first wait's upper bound; doubled on each retry. */
  readonly baseMs: number;
  /** No wait is longer than this, `Retry-After` included. */
  readonly maxMs: number;
}

/** About two minutes of waiting at most before giving up: a sweep or a reconcile tries again later. */
export const STRIPE_BACKOFF: BackoffPolicy = { attempts: 10, baseMs: 500, maxMs: 20_000 };

export interface BackoffOptions {
  readonly policy?: BackoffPolicy;
  /** Told of every 429 and the wait it causes (counting them, logging them). */
  readonly onRateLimited?: (waitMs: number) => void;
  /** For tests: the wait itself, and the jitter's randomness. */
  readonly sleep?: (ms: number) => Promise<void>;
  readonly random?: () => number;
}

export class StripeRateLimitedError extends Error {
  override readonly name = "StripeRateLimitedError";
  readonly code = "stripe_rate_limited";
}

/** The wait before retry number `retry` (1 for the first). Pure. */
export function rateLimitWaitMs(
  retry: number,
  retryAfter: string | undefined,
  policy: BackoffPolicy,
  random: () => number,
): number {
  const seconds = Number(retryAfter);
  if (retryAfter !== undefined && retryAfter.trim() !== "" && Number.isFinite(seconds) && seconds >= 0)
    return Math.min(seconds * 1000, policy.maxMs);
  const ceiling = Math.min(policy.baseMs * 2 ** (retry - 1), policy.maxMs);
  return Math.round(random() * ceiling);
}

function rateLimited(error: unknown): { retryAfter: string | undefined } | undefined {
  const e = error as { statusCode?: unknown; headers?: Record<string, unknown> } | null;
  if (e?.statusCode !== 429) return undefined;
  const header = e.headers?.["retry-after"];
  return { retryAfter: typeof header === "string" ? header : undefined };
}

/** Runs `call`, again after a wait each time Stripe answers 429, until it answers otherwise. */
export async function withStripeBackoff<T>(call: () => Promise<T>, options: BackoffOptions = {}): Promise<T> {
  const policy = options.policy ?? STRIPE_BACKOFF;
  const sleep = options.sleep ?? ((ms) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      const limited = rateLimited(error);
      if (!limited) throw error;
      if (attempt >= policy.attempts)
        throw new StripeRateLimitedError(
          `Stripe answered 429 (rate limit) ${attempt} times in a row: lower the request rate (fewer workers, a slower sweep) or ask Stripe for a higher limit`,
          { cause: error },
        );
      const wait = rateLimitWaitMs(attempt, limited.retryAfter, policy, options.random ?? Math.random);
      options.onRateLimited?.(wait);
      await sleep(wait);
    }
  }
}
