import { describe, expect, it } from "vitest";
import { rateLimitWaitMs, StripeRateLimitedError, withStripeBackoff } from "./stripeBackoff.ts";

const policy = { attempts: 4, baseMs: 500, maxMs: 3000 };

function tooManyRequests(retryAfter?: string) {
  return Object.assign(new Error("Request rate limit exceeded."), {
    statusCode: 429,
    headers: retryAfter === undefined ? {} : { "retry-after": retryAfter },
  });
}

describe("rateLimitWaitMs", () => {
  it("waits what Retry-After says, bounded by the policy's longest wait", () => {
    expect(rateLimitWaitMs(1, "2", policy, () => 0.5)).toBe(2000);
    expect(rateLimitWaitMs(1, "0", policy, () => 0.5)).toBe(0);
    expect(rateLimitWaitMs(1, "600", policy, () => 0.5)).toBe(3000);
  });

  it("without a usable Retry-After, waits a jittered share of a doubling, bounded ceiling", () => {
    expect([1, 2, 3, 4, 5].map((retry) => rateLimitWaitMs(retry, undefined, policy, () => 1))).toEqual([
      500, 1000, 2000, 3000, 3000,
    ]);
    expect(rateLimitWaitMs(3, "soon", policy, () => 0.25)).toBe(500);
    expect(rateLimitWaitMs(3, "", policy, () => 0)).toBe(0);
  });
});

describe("withStripeBackoff", () => {
  it("tries again after each 429 until the call answers, reporting every wait", async () => {
    const answers = [tooManyRequests("1"), tooManyRequests(), "listed"];
    const waits: number[] = [];
    const slept: number[] = [];
    const result = await withStripeBackoff(
      async () => {
        const next = answers.shift();
        if (next instanceof Error) throw next;
        return next;
      },
      {
        policy,
        random: () => 0.5,
        onRateLimited: (ms) => waits.push(ms),
        sleep: async (ms) => {
          slept.push(ms);
        },
      },
    );
    expect(result).toBe("listed");
    expect(waits).toEqual([1000, 500]);
    expect(slept).toEqual(waits);
  });

  it("gives up after the policy's attempts with an error that says what to do", async () => {
    let calls = 0;
    const failure = await withStripeBackoff(
      async () => {
        calls++;
        throw tooManyRequests();
      },
      { policy, sleep: async () => undefined },
    ).catch((error: unknown) => error);
    expect(calls).toBe(4);
    expect(failure).toBeInstanceOf(StripeRateLimitedError);
    expect((failure as Error).message).toMatch(/429 \(rate limit\) 4 times in a row: lower the request rate/);
  });

  it("passes any other error through at once", async () => {
    let calls = 0;
    const notFound = Object.assign(new Error("No such subscription"), { statusCode: 404 });
    await expect(
      withStripeBackoff(
        async () => {
          calls++;
          throw notFound;
        },
        { policy, sleep: async () => undefined },
      ),
    ).rejects.toBe(notFound);
    expect(calls).toBe(1);
  });
});
