/**
 * What a form action returns: a confirmation, or the problems found — one message per field plus
 * an overall one — exactly as the server's zod schema phrased them, so the form shows the same
 * words the server enforced. Redirects are thrown, never returned. A refusal that needs an HTTP
 * status (429 with Retry-After) comes as a response carrying the same result (`FormAnswer`).
 */
import type { CustomResponse } from "@solidjs/router";

export type FormResult =
  | { readonly ok: true; readonly message: string }
  | { readonly ok: false; readonly message: string; readonly fields: Readonly<Record<string, string>> };

export type FormAnswer = FormResult | CustomResponse<FormResult>;

export function fieldError(result: FormResult | undefined, field: string): string | undefined {
  return result && !result.ok ? result.fields[field] : undefined;
}
