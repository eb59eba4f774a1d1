/**
 * The portal's rate-limit budgets (enforced by rateLimits.ts): the defaults, and
 * `PORTAL_RATE_LIMITS` to change or turn off any of them.
 */

export interface Rule {
  /** Requests allowed per window, all at once if they like. */
  readonly count: number;
  readonly windowSeconds: number;
}

/** The defaults: generous for people, tight for scripts guessing passwords or sending mail. */
export const DEFAULT_RULES = {
  /** Password guesses from one network, and against one account (links redeemed count too). */
  "signIn.address": { count: 30, windowSeconds: 15 * 60 },
  "signIn.account": { count: 10, windowSeconds: 15 * 60 },
  "signUp.address": { count: 10, windowSeconds: 60 * 60 },
  "signUp.account": { count: 3, windowSeconds: 60 * 60 },
  /** Each sends a mail. */
  "magicLink.address": { count: 10, windowSeconds: 60 * 60 },
  "magicLink.account": { count: 5, windowSeconds: 60 * 60 },
  /** A forgotten password: each request sends a mail. */
  "passwordReset.address": { count: 10, windowSeconds: 60 * 60 },
  "passwordReset.account": { count: 5, windowSeconds: 60 * 60 },
  /** Setting a new password (after a reset link, or from the account page). */
  "passwordChange.address": { count: 20, windowSeconds: 60 * 60 },
  "passwordChange.account": { count: 10, windowSeconds: 60 * 60 },
  /** Every server function and API route, and every other change request. */
  "requests.address": { count: 600, windowSeconds: 60 },
  "requests.account": { count: 300, windowSeconds: 60 },
} as const satisfies Record<string, Rule>;

export type RuleName = keyof typeof DEFAULT_RULES;
/** A rule's budget, or null when turned off. */
export type Rules = Readonly<Record<RuleName, Rule | null>>;

export class RateLimitSettingsError extends Error {
  override readonly name = "RateLimitSettingsError";
}

const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };

/**
 * `PORTAL_RATE_LIMITS`: overrides of the defaults, comma-separated `rule=count/window`
 * (`signIn.account=5/15m`, window in s, m, h or d) or `rule=off`; unset keeps the defaults.
 */
export function parseRateLimits(raw: string | undefined): Rules {
  const rules: Record<RuleName, Rule | null> = { ...DEFAULT_RULES };
  for (const entry of (raw ?? "")
    .split(",")
    .map((e) => e.trim())
    .filter(Boolean)) {
    const [name = "", value = ""] = entry.split("=").map((p) => p.trim());
    if (!(name in DEFAULT_RULES))
      throw new RateLimitSettingsError(
        `PORTAL_RATE_LIMITS: "${name}" is not a limit (${Object.keys(DEFAULT_RULES).join(", ")})`,
      );
    const match = /^(\d+)\/(\d+)([smhd])$/.exec(value);
    if (value !== "off" && (!match || Number(match[1]) < 1 || Number(match[2]) < 1))
      throw new RateLimitSettingsError(
        `PORTAL_RATE_LIMITS: "${entry}" must be ${name}=<count>/<window> (like 10/15m) or ${name}=off`,
      );
    rules[name as RuleName] = match
      ? { count: Number(match[1]), windowSeconds: Number(match[2]) * (UNITS[match[3] ?? "s"] ?? 1) }
      : null;
  }
  return rules;
}
