import { describe, expect, it } from "vitest";
import { StripeApiError } from "./errors.ts";
import { RequestRateLimiter } from "./rateLimit.ts";

function outcome(limiter: RequestRateLimiter): number | string {
  const headers: Record<string, string> = {};
  try {
    limiter.take(headers);
    return 200;
  } catch (error) {
    if (!(error instanceof StripeApiError)) throw error;
    return `${error.status} ${error.body.code}${headers["retry-after"] ? ` retry-after ${headers["retry-after"]}` : ""}`;
  }
}

describe("RequestRateLimiter", () => {
  it("lets nothing through the limit when off", () => {
    const limiter = new RequestRateLimiter(null, () => 0);
    expect(Array.from({ length: 1000 }, () => outcome(limiter)).every((o) => o === 200)).toBe(true);
    expect(limiter.limited).toBe(0);
  });

  it("answers Stripe's 429 beyond the rate, and refills with time", () => {
    let now = 0;
    const limiter = new RequestRateLimiter({ perSecond: 3 }, () => now);
    expect([1, 2, 3, 4].map(() => outcome(limiter))).toEqual([200, 200, 200, "429 rate_limit"]);
    now += 334;
    expect([outcome(limiter), outcome(limiter)]).toEqual([200, "429 rate_limit"]);
    now += 10_000;
    expect([1, 2, 3, 4].map(() => outcome(limiter))).toEqual([200, 200, 200, "429 rate_limit"]);
    expect(limiter.limited).toBe(3);
  });

  it("holds at least one request under one a second, and adds Retry-After when asked", () => {
    let now = 0;
    const limiter = new RequestRateLimiter({ perSecond: 0.5, retryAfterSeconds: 2 }, () => now);
    expect([outcome(limiter), outcome(limiter)]).toEqual([200, "429 rate_limit retry-after 2"]);
    now += 2000;
    expect(outcome(limiter)).toBe(200);
  });

  it("refuses a rate that is not a positive number", () => {
    expect(() => new RequestRateLimiter({ perSecond: 0 })).toThrow(RangeError);
  });
});
