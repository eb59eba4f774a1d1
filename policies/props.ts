/**
 * Narrow readers for resource properties. The engine hands policies untyped
 * JSON behind a proxy that throws `UnknownValueError` when a value is not known
 * yet (during a preview); these readers turn shapes into types without casts,
 * and the walker skips unknown values instead of giving up on the whole resource.
 */
// Exported by @pulumi/policy's index but typed nowhere (its proxy.d.ts is stripped): only `instanceof` is used.
import { UnknownValueError } from "@pulumi/policy";

export type Props = Readonly<Record<string, unknown>>;

export function str(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

export function num(value: unknown): number | undefined {
  return typeof value === "number" && Number.isFinite(value) ? value : undefined;
}

export function bool(value: unknown): boolean | undefined {
  return typeof value === "boolean" ? value : undefined;
}

export function obj(value: unknown): Props | undefined {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Props) : undefined;
}

export function list(value: unknown): readonly unknown[] {
  return Array.isArray(value) ? value : [];
}

/** The strings of a list, skipping anything else. */
export function strings(value: unknown): string[] {
  return list(value).flatMap((v) => (typeof v === "string" ? [v] : []));
}

/**
 * Calls `visit` for every string inside `value` with its property path
 * (`.connection.host`, `.domains[1]`). Values the engine does not know yet are
 * skipped: a preview cannot judge them, and the update judges them again.
 */
export function forEachString(value: unknown, visit: (path: string, text: string) => void, path = ""): void {
  if (typeof value === "string") {
    visit(path, value);
    return;
  }
  if (typeof value !== "object" || value === null) return;
  const entries = Array.isArray(value)
    ? value.map((_, i) => [`[${i}]`, i] as const)
    : Object.keys(value).map((k) => [`.${k}`, k] as const);
  for (const [label, key] of entries) {
    let child: unknown;
    try {
      child = (value as Record<string | number, unknown>)[key];
    } catch (error) {
      if (error instanceof UnknownValueError) continue;
      throw error;
    }
    forEachString(child, visit, `${path}${label}`);
  }
}
