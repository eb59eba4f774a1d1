/**
 * Parse a submitted form once, at the edge, with a zod schema. Failures become a `FormResult`
 * carrying the schema's own messages per field.
 */
import type { z } from "zod";
import type { FormResult } from "../lib/formResult.ts";

export type Parsed<T> =
  | { readonly ok: true; readonly data: T }
  | { readonly ok: false; readonly result: FormResult };

export function parseForm<S extends z.ZodType>(schema: S, form: FormData): Parsed<z.infer<S>> {
  const raw: Record<string, string> = {};
  for (const [key, value] of form.entries()) if (typeof value === "string") raw[key] = value;
  const parsed = schema.safeParse(raw);
  if (parsed.success) return { ok: true, data: parsed.data };
  const fields: Record<string, string> = {};
  for (const issue of parsed.error.issues) {
    const key = String(issue.path[0] ?? "form");
    fields[key] ??= issue.message;
  }
  return {
    ok: false,
    result: { ok: false, message: "Please correct the highlighted fields.", fields },
  };
}

export function failure(message: string, fields: Record<string, string> = {}): FormResult {
  return { ok: false, message, fields };
}
