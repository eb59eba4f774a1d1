/**
 * The few statistics the benchmark reports. Medians, not means, for latencies:
 * on a shared 2-core machine one run can be hit by someone else's build, and a
 * median of three is not moved by one outlier.
 */

/** A span of wall time, in milliseconds on one clock. */
export interface Interval {
  readonly start: number;
  readonly end: number;
}

/** Sorted, non-overlapping intervals covering exactly the same time as `intervals`. */
export function mergeIntervals(intervals: readonly Interval[]): Interval[] {
  const sorted = [...intervals].filter((i) => i.end > i.start).sort((a, b) => a.start - b.start);
  const merged: Interval[] = [];
  for (const next of sorted) {
    const last = merged.at(-1);
    if (last && next.start <= last.end)
      merged[merged.length - 1] = { start: last.start, end: Math.max(last.end, next.end) };
    else merged.push(next);
  }
  return merged;
}

/** Time during which at least one of the intervals was open. */
export function unionLength(intervals: readonly Interval[]): number {
  return mergeIntervals(intervals).reduce((sum, i) => sum + (i.end - i.start), 0);
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const upper = sorted[mid] ?? Number.NaN;
  return sorted.length % 2 === 1 ? upper : ((sorted[mid - 1] ?? upper) + upper) / 2;
}

/** The nearest-rank percentile `p` (0–100) of ascending `sorted` values; NaN for none. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length) - 1;
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank))] ?? Number.NaN;
}

export function mean(values: readonly number[]): number {
  return values.length === 0 ? Number.NaN : values.reduce((a, b) => a + b, 0) / values.length;
}

/** `12.3 s` (one decimal: the runs vary by more than that anyway). */
export function seconds(ms: number): string {
  return Number.isFinite(ms) ? `${(ms / 1000).toFixed(1)} s` : "n/a";
}

export function megabytes(bytes: number): string {
  return Number.isFinite(bytes) ? `${Math.round(bytes / 2 ** 20)} MB` : "n/a";
}

export function ratio(value: number): string {
  return Number.isFinite(value) ? `${value.toFixed(2)}×` : "n/a";
}
