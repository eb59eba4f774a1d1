/**
 * The longest time a cron schedule leaves between two runs: what "backups at
 * most 6 hours apart" means for the five-field expressions that Dokku's
 * `*:backup-schedule` (system cron) and the storage backup job take.
 */

/** A schedule the pack cannot read. */
export class CronError extends Error {
  override readonly name = "CronError";
}

const MACROS: Readonly<Record<string, string>> = {
  "@hourly": "0 * * * *",
  "@daily": "0 0 * * *",
  "@midnight": "0 0 * * *",
  "@weekly": "0 0 * * 0",
  "@monthly": "0 0 1 * *",
  "@yearly": "0 0 1 1 *",
  "@annually": "0 0 1 1 *",
};

const MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
const DAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];

interface FieldSpec {
  readonly name: string;
  readonly min: number;
  readonly max: number;
  readonly names?: readonly string[];
  /** Offset of `names[0]` (months count from 1). */
  readonly namesFrom?: number;
}

const MINUTE: FieldSpec = { name: "minute", min: 0, max: 59 };
const HOUR: FieldSpec = { name: "hour", min: 0, max: 23 };
const DAY_OF_MONTH: FieldSpec = { name: "day of month", min: 1, max: 31 };
const MONTH: FieldSpec = { name: "month", min: 1, max: 12, names: MONTHS, namesFrom: 1 };
// 7 is Sunday too.
const DAY_OF_WEEK: FieldSpec = { name: "day of week", min: 0, max: 7, names: DAYS, namesFrom: 0 };

function value(text: string, field: FieldSpec): number {
  const named = field.names?.indexOf(text.toLowerCase()) ?? -1;
  const n = named >= 0 ? named + (field.namesFrom ?? 0) : /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isInteger(n) || n < field.min || n > field.max) {
    throw new CronError(`${field.name} value ${JSON.stringify(text)} is not in ${field.min}-${field.max}`);
  }
  return n;
}

function parseField(text: string, field: FieldSpec): Set<number> {
  const result = new Set<number>();
  for (const item of text.split(",")) {
    const [range = "", stepText] = item.split("/");
    const step = stepText === undefined ? 1 : Number(stepText);
    if (!Number.isInteger(step) || step < 1)
      throw new CronError(`${field.name} step ${JSON.stringify(stepText)} is not a positive integer`);
    let from: number;
    let to: number;
    if (range === "*") {
      from = field.min;
      to = field.max;
    } else if (range.includes("-")) {
      const [a = "", b = ""] = range.split("-");
      from = value(a, field);
      to = value(b, field);
      if (to < from) throw new CronError(`${field.name} range ${JSON.stringify(range)} runs backwards`);
    } else {
      from = value(range, field);
      to = stepText === undefined ? from : field.max;
    }
    for (let v = from; v <= to; v += step) result.add(v);
  }
  return result;
}

interface Schedule {
  readonly minutesOfDay: readonly number[];
  runsOn(day: Date): boolean;
}

function parse(expression: string): Schedule {
  const text = MACROS[expression.trim().toLowerCase()] ?? expression.trim();
  const parts = text.split(/\s+/);
  if (parts.length !== 5)
    throw new CronError(`${JSON.stringify(expression)} is not a five-field cron expression`);
  const [minutes, hours, doms, months, dows] = [MINUTE, HOUR, DAY_OF_MONTH, MONTH, DAY_OF_WEEK].map((f, i) =>
    parseField(parts[i] ?? "", f),
  );
  if (!minutes || !hours || !doms || !months || !dows) throw new CronError("unreachable: five fields parsed");
  if (dows.has(7)) dows.add(0);
  const minutesOfDay = [...hours].flatMap((h) => [...minutes].map((m) => h * 60 + m)).sort((a, b) => a - b);
  // Cron's rule: when both day fields are restricted, a day matching either one runs.
  const domRestricted = !(parts[2] ?? "").startsWith("*");
  const dowRestricted = !(parts[4] ?? "").startsWith("*");
  return {
    minutesOfDay,
    runsOn(day) {
      if (!months.has(day.getUTCMonth() + 1)) return false;
      const dom = doms.has(day.getUTCDate());
      const dow = dows.has(day.getUTCDay());
      return domRestricted && dowRestricted ? dom || dow : dom && dow;
    },
  };
}

/** 28 years: one full cycle of the Gregorian calendar's weekdays within 1901-2099, so every day rule shows. */
const CYCLE_DAYS = 10_227;
const DAY_MS = 86_400_000;

/**
 * The longest gap between consecutive runs, in minutes (`Infinity` if the
 * schedule never runs). Minute resolution, UTC.
 * @throws CronError when the expression is not a five-field cron expression or a known macro.
 */
export function longestGapMinutes(expression: string): number {
  const schedule = parse(expression);
  const times = schedule.minutesOfDay;
  const first = times[0];
  const last = times[times.length - 1];
  if (first === undefined || last === undefined) return Number.POSITIVE_INFINITY;
  let longest = 0;
  for (let i = 1; i < times.length; i++) longest = Math.max(longest, (times[i] ?? 0) - (times[i - 1] ?? 0));
  const start = Date.UTC(2001, 0, 1);
  let previousRunDay: number | undefined;
  let firstRunDay: number | undefined;
  for (let d = 0; d < CYCLE_DAYS; d++) {
    if (!schedule.runsOn(new Date(start + d * DAY_MS))) continue;
    if (previousRunDay !== undefined) longest = Math.max(longest, (d - previousRunDay) * 1440 - last + first);
    firstRunDay ??= d;
    previousRunDay = d;
  }
  if (previousRunDay === undefined || firstRunDay === undefined) return Number.POSITIVE_INFINITY;
  // The cycle repeats: the wrap from its last run day to the next cycle's first.
  return Math.max(longest, (CYCLE_DAYS - previousRunDay + firstRunDay) * 1440 - last + first);
}
