/**
 * Formatting shared by server rendering and the browser. Dates are always shown in UTC with a fixed
 * format, so the server's and the browser's rendering agree (no hydration mismatch) and operators
 * in different time zones read the same times.
 */
export { formatBytes } from "../../../components/byteSize.ts";

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

export function formatDate(iso: string | null | undefined): string {
  if (!iso) return "—";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "—";
  return `${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()}`;
}

export function formatDateTime(iso: string | null | undefined): string {
  if (!iso) return "—";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "—";
  const hh = String(d.getUTCHours()).padStart(2, "0");
  const mm = String(d.getUTCMinutes()).padStart(2, "0");
  return `${formatDate(iso)}, ${hh}:${mm} UTC`;
}

export function formatMoney(cents: number | null): string {
  if (cents === null) return "Custom";
  const dollars = cents / 100;
  return `$${dollars.toLocaleString("en-US", { minimumFractionDigits: dollars % 1 ? 2 : 0, maximumFractionDigits: 2 })}`;
}

/** One formatter for every count: `n.toLocaleString("en-US")` builds a new one on each call. */
const COUNT = new Intl.NumberFormat("en-US");

/** A count with thousands separators (`1,000`), the same as `n.toLocaleString("en-US")`. */
export function formatCount(n: number): string {
  return COUNT.format(n);
}

export function formatLimit(limit: number | "unlimited", unit = ""): string {
  return limit === "unlimited" ? "Unlimited" : `${formatCount(limit)}${unit}`;
}

export function formatDuration(ms: number | null): string {
  if (ms === null) return "";
  if (ms < 1000) return `${ms} ms`;
  const s = Math.round(ms / 1000);
  return s < 60 ? `${s} s` : `${Math.floor(s / 60)} min ${s % 60} s`;
}
