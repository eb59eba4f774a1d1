/**
 * The portal's rate limits: per client address (behind trusted proxies, the address they recorded:
 * net/clientAddress.ts; IPv6 per /64) and per account, on sign-in, sign-up, sign-in links, and
 * every server function and API route. The counters live in Postgres (database/rateLimits.ts), so
 * a limit holds however many portal processes serve the site and survives restarts: a password
 * guesser spread over replicas gets one budget, not one per replica. Account keys are SHA-256 of
 * the lower-cased email (or the user id), never the address itself.
 *
 * A refused request gets 429 with `Retry-After` and a sentence the page shows: actions return it as
 * their form result, the middleware answers server functions with a message the client throws, and
 * the emailed-link route with a short page.
 */
import { createHash } from "node:crypto";
import type { CustomResponse } from "@solidjs/router";
import { json } from "@solidjs/router";
import { getRequestEvent } from "solid-js/web";
import {
  forgetIdleRateLimits,
  type RateLimitDecision,
  takeRateLimits,
} from "../../../database/rateLimits.ts";
import { addressBucket, clientAddress } from "../../../net/clientAddress.ts";
import type { FormResult } from "../lib/formResult.ts";
import { servicePool } from "./database.ts";
import { failure } from "./forms.ts";
import type { RuleName } from "./rateLimitRules.ts";
import { portalSettings } from "./settings.ts";

/** The client's address for this request, as our trusted proxies saw it. */
export function requestAddress(): string {
  const event = getRequestEvent();
  return clientAddress(
    event?.clientAddress,
    event?.request.headers.get("x-forwarded-for"),
    portalSettings().trustedProxies,
  );
}

/** An account as a key: never the email itself. */
export function accountKey(account: string): string {
  return createHash("sha256").update(account.trim().toLowerCase()).digest("hex").slice(0, 32);
}

export type Subject = { readonly address: string } | { readonly account: string };

let lastSweep = 0;

/** Counts this request against each rule for its subject; allowed only if every one allows it. */
export async function takeLimits(
  limits: readonly (readonly [RuleName, Subject])[],
): Promise<RateLimitDecision> {
  const rules = portalSettings().rateLimits;
  const requests = limits.flatMap(([name, subject]) => {
    const rule = rules[name];
    if (!rule) return [];
    const emissionSeconds = rule.windowSeconds / rule.count;
    const who = "address" in subject ? addressBucket(subject.address) : accountKey(subject.account);
    return [
      { key: `${name}:${who}`, emissionSeconds, toleranceSeconds: rule.windowSeconds - emissionSeconds },
    ];
  });
  const pool = servicePool();
  if (Date.now() - lastSweep > 60_000) {
    lastSweep = Date.now();
    forgetIdleRateLimits(pool).catch(() => undefined);
  }
  return takeRateLimits(pool, requests);
}

/** "2 minutes", "40 seconds", "1 hour". */
export function waitText(seconds: number): string {
  const [amount, unit] =
    seconds >= 5400
      ? [Math.ceil(seconds / 3600), "hour"]
      : seconds >= 90
        ? [Math.ceil(seconds / 60), "minute"]
        : [seconds, "second"];
  return `${amount} ${unit}${amount === 1 ? "" : "s"}`;
}

/** For an action: a form result with the reason, sent as 429 with Retry-After. */
export function limitedForm(
  decision: RateLimitDecision & { allowed: false },
  what: string,
): CustomResponse<FormResult> {
  return json(failure(`${what} Try again in ${waitText(decision.retryAfterSeconds)}.`), {
    status: 429,
    headers: { "retry-after": String(decision.retryAfterSeconds) },
  });
}

export const TOO_MANY_REQUESTS = "Too many requests from your network or account.";

/**
 * For the middleware: 429 for a server function (the client throws the message, which the page's
 * notice shows) or any other request (a plain sentence).
 */
export function limitedResponse(decision: RateLimitDecision & { allowed: false }): Response {
  const message = `${TOO_MANY_REQUESTS} Try again in ${waitText(decision.retryAfterSeconds)}.`;
  return new Response(message, {
    status: 429,
    headers: {
      "retry-after": String(decision.retryAfterSeconds),
      "content-type": "text/plain; charset=utf-8",
      "cache-control": "no-store",
      // SolidStart's client reads a string body (X-Start-Type 1) and throws it when X-Error is set.
      "x-start-type": "1",
      "x-error": encodeURIComponent(message),
    },
  });
}
