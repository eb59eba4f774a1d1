import { describe, expect, it } from "vitest";
import { TokenBuckets } from "./rateLimit.ts";

describe("TokenBuckets", () => {
  it("lets a burst through, then refuses with the seconds until the next token", () => {
    const buckets = new TokenBuckets({ perSecond: 2, burst: 3 });
    const at = 1_000;
    expect([1, 2, 3].map(() => buckets.take("1.2.3.4", at).allowed)).toEqual([true, true, true]);
    expect(buckets.take("1.2.3.4", at)).toEqual({ allowed: false, retryAfterSeconds: 1 });
    // Half a second at 2/s refills one token.
    expect(buckets.take("1.2.3.4", at + 500).allowed).toBe(true);
    expect(buckets.take("1.2.3.4", at + 500).allowed).toBe(false);
  });

  it("keeps one bucket per source", () => {
    const buckets = new TokenBuckets({ perSecond: 1, burst: 1 });
    expect(buckets.take("a", 0).allowed).toBe(true);
    expect(buckets.take("a", 0).allowed).toBe(false);
    expect(buckets.take("b", 0).allowed).toBe(true);
  });

  it("rounds Retry-After up for slow rates", () => {
    const buckets = new TokenBuckets({ perSecond: 0.1, burst: 1 });
    buckets.take("a", 0);
    expect(buckets.take("a", 0)).toEqual({ allowed: false, retryAfterSeconds: 10 });
  });

  it("forgets sources whose bucket has refilled", () => {
    const buckets = new TokenBuckets({ perSecond: 1000, burst: 1 });
    for (let i = 0; i < 1023; i++) buckets.take(`10.0.0.${i}`, 0);
    expect(buckets.size).toBe(1023);
    buckets.take("late", 10_000);
    expect(buckets.size).toBe(1);
  });

  it("refuses a configuration that would block everything", () => {
    expect(() => new TokenBuckets({ perSecond: 0, burst: 1 })).toThrow(/perSecond > 0/);
    expect(() => new TokenBuckets({ perSecond: 1, burst: 0 })).toThrow(/burst >= 1/);
  });
});
