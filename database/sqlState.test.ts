import { describe, expect, it } from "vitest";
import { concernsTheRows, isDataException } from "./sqlState.ts";

const pgError = (code: string) => Object.assign(new Error("from Postgres"), { code });

describe("SQLSTATE classes", () => {
  it.each([
    ["22P05", true, true], // untranslatable character (\u0000 in jsonb)
    ["23505", false, true], // unique violation
    ["40P01", false, true], // deadlock
    ["08006", false, false], // connection failure
    ["57P01", false, false], // admin shutdown
    ["53300", false, false], // too many connections
  ])("%s: data exception %s, concerns the rows %s", (code, data, rows) => {
    expect(isDataException(pgError(code))).toBe(data);
    expect(concernsTheRows(pgError(code))).toBe(rows);
  });

  it("an error without a SQLSTATE (a refused connection) concerns the database, not the rows", () => {
    const refused = Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" });
    expect(concernsTheRows(refused)).toBe(false);
    expect(isDataException(refused)).toBe(false);
    expect(concernsTheRows(null)).toBe(false);
  });
});
