import { describe, expect, it } from "vitest";
import { CronError, longestGapMinutes } from "./cron.ts";

const hours = (expression: string) => longestGapMinutes(expression) / 60;

describe("longestGapMinutes", () => {
  it.each([
    ["0 */6 * * *", 6],
    ["0 0,6,12,18 * * *", 6],
    ["30 1,7,13,19 * * *", 6],
    ["0 */4 * * *", 4],
    ["*/15 * * * *", 0.25],
    ["@hourly", 1],
    ["0 0-23/7 * * *", 7], // 0, 7, 14, 21 (and 21:00 → 00:00 is only 3)
    ["0 3 * * *", 24],
    ["@daily", 24],
    ["0 */6 * * 1-5", 54], // Friday 18:00 → Monday 00:00
    ["0 */6 * * MON-FRI", 54],
    ["0 */6 * * 0-6", 6],
    ["0 */6 * * 1-5,0,6", 6],
    ["0 */6 * * 7,1-6", 6], // 7 is Sunday
    ["0 */6 1-15 * *", 390], // the 15th 18:00 → the 1st of the next month (16 days on a 31-day month)
    ["0 */6 1 * 1", 150], // the 1st or Mondays: Monday 18:00 → next Monday when no 1st falls between
    ["0 0 * JAN *", 336 * 24], // Jan 31 00:00 → Jan 1 after a leap February
  ])("%s leaves up to %s hours", (expression, expected) => {
    expect(hours(expression)).toBe(expected);
  });

  it("is infinite for a schedule that never runs", () => {
    expect(longestGapMinutes("0 0 31 2 *")).toBe(Number.POSITIVE_INFINITY);
  });

  it.each([
    ["0 */6 * *", /not a five-field cron expression/],
    ["@every 6h", /not a five-field cron expression/],
    ["0 24 * * *", /hour value "24" is not in 0-23/],
    ["0 */0 * * *", /hour step "0" is not a positive integer/],
    ["0 6-1 * * *", /hour range "6-1" runs backwards/],
    ["0 0 * * MON-SUN", /day of week range "MON-SUN" runs backwards/],
  ])("refuses %s", (expression, message) => {
    expect(() => longestGapMinutes(expression)).toThrow(CronError);
    expect(() => longestGapMinutes(expression)).toThrow(message);
  });
});
