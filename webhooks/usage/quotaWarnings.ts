/**
 * Quota warnings: which measured figures reached 80 % or 100 % of the tier's
 * quota, and the period each warning is given once in. Pure.
 */
import { formatBytes } from "../../components/byteSize.ts";
import { storageQuotaBytes, type Tier, UNLIMITED } from "../../components/tiers.ts";

export const QUOTA_METRICS = ["storage", "agents", "messages"] as const;
export type QuotaMetric = (typeof QUOTA_METRICS)[number];

/** A day's figures; null means "not measured". */
export interface MeasuredUsage {
  readonly storageBytes: number | null;
  readonly agents: number | null;
  readonly messages: number | null;
}

export interface QuotaWarning {
  readonly metric: QuotaMetric;
  readonly percent: 80 | 100;
  readonly used: number;
  readonly limit: number;
}

/** The highest threshold each measured figure reached, against the tier's limits. */
export function quotaWarnings(tier: Tier, usage: MeasuredUsage): QuotaWarning[] {
  const figures: [QuotaMetric, number | null, number | typeof UNLIMITED][] = [
    ["storage", usage.storageBytes, storageQuotaBytes(tier)],
    ["agents", usage.agents, tier.agents],
    ["messages", usage.messages, tier.messagesPerDay],
  ];
  const warnings: QuotaWarning[] = [];
  for (const [metric, used, limit] of figures) {
    if (used === null || limit === UNLIMITED || limit <= 0) continue;
    const share = used / limit;
    if (share >= 1) warnings.push({ metric, percent: 100, used, limit });
    else if (share >= 0.8) warnings.push({ metric, percent: 80, used, limit });
  }
  return warnings;
}

/**
 * The period a warning is given once in: messages are a daily quota (the day);
 * storage and agents run for the billing period (its end, when known; else the
 * calendar month).
 */
export function quotaPeriod(metric: QuotaMetric, day: string, periodEnd: Date | null): string {
  if (metric === "messages") return day;
  return periodEnd ? `period-${periodEnd.toISOString()}` : `month-${day.slice(0, 7)}`;
}

/** A figure as a person reads it: bytes in binary units like the portal, counts as numbers. */
export function formatFigure(metric: QuotaMetric, n: number): string {
  return metric === "storage" ? formatBytes(n) : n.toLocaleString("en-US");
}
