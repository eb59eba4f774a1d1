/**
 * Request parameters as Stripe receives them: form-encoded bodies and query
 * strings in bracket notation (`items[0][price]`, `expand[]`, `metadata[k]`),
 * parsed into nested objects and arrays, then validated with zod into the
 * errors Stripe gives (`parameter_missing`, `parameter_unknown`,
 * `parameter_invalid_integer`, …) naming the parameter the way Stripe does.
 */
import { z } from "zod";
import { parameterInvalid, parameterMissing, parameterUnknown } from "./errors.ts";

export type ParamValue = string | ParamValue[] | { [key: string]: ParamValue };
export type Params = { [key: string]: ParamValue };

/** `a[b][0]` → `["a", "b", "0"]`; `a[]` → `["a", ""]`. */
function splitKey(key: string): string[] {
  const open = key.indexOf("[");
  if (open <= 0) return [key];
  const parts = [key.slice(0, open)];
  const re = /\[([^\]]*)\]/g;
  for (let m = re.exec(key); m; m = re.exec(key)) parts.push(m[1] ?? "");
  return parts;
}

type Tree = { [key: string]: Tree | string };

/** Containers whose keys are all indices become arrays; `metadata` stays a hash whatever its keys. */
function finish(node: Tree | string, name: string): ParamValue {
  if (typeof node === "string") return node;
  const keys = Object.keys(node);
  const isArray = name !== "metadata" && keys.length > 0 && keys.every((k) => /^\d+$/.test(k));
  if (isArray) {
    return keys
      .map(Number)
      .sort((a, b) => a - b)
      .map((k) => finish(node[String(k)] as Tree | string, String(k)));
  }
  const out: Params = {};
  for (const k of keys) out[k] = finish(node[k] as Tree | string, k);
  return out;
}

/** Parses `application/x-www-form-urlencoded` text (a body or a query string). */
export function parseForm(text: string): Params {
  const root: Tree = {};
  for (const [key, value] of new URLSearchParams(text)) {
    const parts = splitKey(key);
    let node: Tree = root;
    for (let i = 0; i < parts.length; i++) {
      let part = parts[i] ?? "";
      // `expand[]=a&expand[]=b`: each empty index appends.
      if (part === "") part = String(Object.keys(node).length);
      if (i === parts.length - 1) {
        node[part] = value;
      } else {
        const next = node[part];
        if (typeof next === "object") node = next;
        else {
          const created: Tree = {};
          node[part] = created;
          node = created;
        }
      }
    }
  }
  return finish(root, "") as Params;
}

/** `["items", 0, "price"]` → `items[0][price]`, Stripe's way of naming a nested parameter. */
export function paramName(path: readonly PropertyKey[]): string {
  const [head, ...rest] = path.map(String);
  return `${head ?? ""}${rest.map((p) => `[${p}]`).join("")}`;
}

function valueAt(raw: unknown, path: readonly PropertyKey[]): unknown {
  let node = raw;
  for (const p of path) {
    if (node === null || typeof node !== "object") return undefined;
    node = (node as Record<PropertyKey, unknown>)[p];
  }
  return node;
}

const INVALID_INTEGER = "stripe:parameter_invalid_integer";
const INVALID_BOOLEAN = "stripe:parameter_invalid_boolean";

/** A form integer (`"30"` → 30). */
export const formInt = z
  .string()
  .regex(/^-?\d+$/, { message: INVALID_INTEGER })
  .transform(Number);
/** A form boolean (`"true"`/`"false"`). */
export const formBool = z
  .enum(["true", "false"], { message: INVALID_BOOLEAN })
  .transform((v) => v === "true");
/** `metadata[k]=v`; `metadata=` (empty) clears every key; an empty value unsets one key. */
export const metadataParam = z.union([z.literal(""), z.record(z.string(), z.string())]);
export const expandParam = z.array(z.string()).optional();
/** A value that cannot be unset: `customer=` is Stripe's `parameter_invalid_empty`. */
export const nonEmpty = z.string().min(1);
/** `created=…` or `created[gte]=…` etc. */
export const rangeParam = z.union([
  formInt,
  z.strictObject({
    gt: formInt.optional(),
    gte: formInt.optional(),
    lt: formInt.optional(),
    lte: formInt.optional(),
  }),
]);
export type RangeFilter = z.infer<typeof rangeParam>;

export function inRange(value: number, range: RangeFilter | undefined): boolean {
  if (range === undefined) return true;
  if (typeof range === "number") return value === range;
  return (
    (range.gt === undefined || value > range.gt) &&
    (range.gte === undefined || value >= range.gte) &&
    (range.lt === undefined || value < range.lt) &&
    (range.lte === undefined || value <= range.lte)
  );
}

export const paginationShape = {
  limit: formInt.optional(),
  starting_after: z.string().optional(),
  ending_before: z.string().optional(),
  expand: expandParam,
};

/** Validates parsed params; the first problem becomes the Stripe error for it. */
export function parseParams<T>(schema: z.ZodType<T>, raw: Params): T {
  const result = schema.safeParse(raw);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  if (!issue) throw parameterInvalid("", "Invalid request");
  const path = issue.path;
  if (issue.code === "unrecognized_keys") {
    throw parameterUnknown(paramName([...path, issue.keys[0] ?? ""]));
  }
  const name = paramName(path);
  const value = valueAt(raw, path);
  if (value === undefined) throw parameterMissing(name);
  if (issue.message === INVALID_INTEGER)
    throw parameterInvalid(name, `Invalid integer: ${String(value)}`, "parameter_invalid_integer");
  if (issue.message === INVALID_BOOLEAN)
    throw parameterInvalid(name, `Invalid boolean: ${String(value)}`, "parameter_invalid_boolean");
  if (issue.code === "invalid_value") {
    const values = issue.values.map(String);
    const list =
      values.length > 1 ? `${values.slice(0, -1).join(", ")}, or ${values[values.length - 1]}` : values[0];
    throw parameterInvalid(name, `Invalid ${name}: must be one of ${list}`);
  }
  if ((issue.code === "invalid_type" || issue.code === "too_small") && value === "") {
    throw parameterInvalid(
      name,
      `You passed an empty string for '${name}'. We assume empty values are an attempt to unset a parameter; however '${name}' cannot be unset. You should remove '${name}' from your request or supply a non-empty value.`,
      "parameter_invalid_empty",
    );
  }
  if (issue.code === "invalid_type" && issue.expected === "array")
    throw parameterInvalid(name, `Invalid array`, "parameter_invalid_array");
  if (issue.code === "invalid_type" && issue.expected === "object")
    throw parameterInvalid(name, `Invalid object`);
  throw parameterInvalid(name, `Invalid ${name}: ${issue.message}`);
}
