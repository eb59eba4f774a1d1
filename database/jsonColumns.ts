/**
 * How jsonb columns are written and read back: parsed with zod once, at the repository
 * edge, so a malformed value fails loudly where it is read instead of
 * surfacing as `undefined` somewhere in the worker or the portal.
 */
import { z } from "zod";

/** A JSON object column (spec, outputs, changes, details): keys are open, the shape is an object. */
export const jsonObject = z.record(z.string(), z.unknown());
export type JsonObject = z.infer<typeof jsonObject>;

/** Parses a nullable jsonb column that must hold an object; `column` names it in the error. */
export function parseJsonObject(value: unknown, column: string): JsonObject | null {
  if (value === null || value === undefined) return null;
  const parsed = jsonObject.safeParse(value);
  if (!parsed.success) throw new Error(`${column} must hold a JSON object, found ${typeof value}`);
  return parsed.data;
}

/**
 * A jsonb parameter as JSON text: node-pg would send a top-level array as a
 * Postgres array. A string is taken as JSON text already (a raw webhook body
 * is stored as received, without a parse and re-serialise).
 */
export function jsonb(value: unknown): string | null {
  if (value === undefined || value === null) return null;
  return typeof value === "string" ? value : JSON.stringify(value);
}
