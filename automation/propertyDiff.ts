/**
 * What a planned step changes, property by property, with the old and the new
 * value, as `pulumi preview --diff` shows it. The engine's pre-event names the
 * changed paths (`detailedDiff`, keys like `create`, `environment.FOO`,
 * `triggers[0]`) and carries the old and new inputs (and old outputs, for diffs
 * against state); it already masks secret values as "[secret]". On top of that,
 * values under a secret-sounding name and secret-looking strings (keys, private
 * keys, passwords in URLs) are masked here, so a diff is safe to show anywhere.
 */
import type { StepEventMetadata } from "@pulumi/pulumi/automation/index.js";
import { REDACTED, redact, SECRET_FIELD } from "../logging/redact.ts";

export interface PropertyChange {
  /** Property path, e.g. `create` or `connection.host`. */
  readonly path: string;
  /** The engine's diff kind: add, delete, update, and their `-replace` forms. */
  readonly kind: string;
  /** The value before (absent for an added property). */
  readonly old?: unknown;
  /** The value after (absent for a deleted property). */
  readonly new?: unknown;
}

/** The engine's placeholder for a secret value. */
export const SECRET_PLACEHOLDER = "[secret]";

/** Pulumi's signature key and value marking a secret in serialized property values. */
const SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

/** Engine values with secrets (`{<sig>: …, ciphertext: "[secret]"}`) as the plain placeholder. */
export function unwrapSecrets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(unwrapSecrets);
  if (value === null || typeof value !== "object") return value;
  const record = value as Record<string, unknown>;
  if (record[SECRET_SIG_KEY] === SECRET_SIG) return SECRET_PLACEHOLDER;
  return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, unwrapSecrets(v)]));
}

/** `a.b[0]["c.d"]` → ["a", "b", 0, "c.d"]. */
export function parsePropertyPath(path: string): (string | number)[] {
  const parts: (string | number)[] = [];
  const token = /([^.[\]]+)|\[(\d+)\]|\["((?:[^"\\]|\\.)*)"\]/g;
  for (let m = token.exec(path); m; m = token.exec(path)) {
    if (m[1] !== undefined) parts.push(m[1]);
    else if (m[2] !== undefined) parts.push(Number(m[2]));
    else parts.push((m[3] ?? "").replace(/\\(.)/g, "$1"));
  }
  return parts;
}

/** The value at `path` in `root`, or undefined. */
export function valueAt(root: unknown, path: string): unknown {
  let here: unknown = root;
  for (const part of parsePropertyPath(path)) {
    if (here === null || typeof here !== "object") return undefined;
    // Inside a secret there is nothing to read: the whole value is the placeholder.
    if ((here as Record<string, unknown>)[SECRET_SIG_KEY] === SECRET_SIG) return SECRET_PLACEHOLDER;
    here = (here as Record<string | number, unknown>)[part];
  }
  return here;
}

/** A value safe to show: secret-named paths masked whole, secret-looking strings masked inside. */
export function maskValue(path: string, value: unknown): unknown {
  if (value === undefined) return undefined;
  value = unwrapSecrets(value);
  const names = parsePropertyPath(path).filter((p): p is string => typeof p === "string");
  if (names.some((n) => SECRET_FIELD.test(n))) return value === SECRET_PLACEHOLDER ? value : REDACTED;
  return redact(value);
}

const ADDED = new Set(["add", "add-replace"]);
const DELETED = new Set(["delete", "delete-replace"]);

/**
 * Every changed property of a step with its old and new value. A create lists
 * each input it sets; a delete, each input it removes.
 */
export function propertyChanges(step: StepEventMetadata): PropertyChange[] {
  const oldInputs = step.old?.inputs ?? {};
  const oldOutputs = step.old?.outputs ?? {};
  const newInputs = step.new?.inputs ?? {};
  const diff = step.detailedDiff;
  if (diff && Object.keys(diff).length > 0) {
    return Object.entries(diff).map(([path, d]) => {
      const kind = String(d.diffKind);
      const before = ADDED.has(kind) ? undefined : valueAt(d.inputDiff ? oldInputs : oldOutputs, path);
      const after = DELETED.has(kind) ? undefined : valueAt(newInputs, path);
      return change(path, kind, before, after);
    });
  }
  if (step.op === "create" && step.new)
    return Object.entries(newInputs).map(([path, value]) => change(path, "add", undefined, value));
  if (step.op === "delete" && step.old)
    return Object.entries(oldInputs).map(([path, value]) => change(path, "delete", value, undefined));
  return [];
}

function change(path: string, kind: string, before: unknown, after: unknown): PropertyChange {
  const old = maskValue(path, before);
  const next = maskValue(path, after);
  return { path, kind, ...(old !== undefined ? { old } : {}), ...(next !== undefined ? { new: next } : {}) };
}
