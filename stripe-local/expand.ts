/**
 * `expand[]=latest_invoice`, `expand[]=items.data.price.product`,
 * `expand[]=data.customer` (on lists): ids replaced by the objects they name,
 * up to Stripe's four levels. Unknown or non-expandable paths are Stripe's 400.
 */
import { invalidRequest } from "./errors.ts";
import type { StateData } from "./state.ts";

type Node = Record<string, unknown>;

const TABLES: [prefix: string, table: keyof StateData][] = [
  ["cus_", "customers"],
  ["sub_", "subscriptions"],
  ["in_", "invoices"],
  ["price_", "prices"],
  ["prod_", "products"],
  ["pm_", "paymentMethods"],
  ["cs_", "checkoutSessions"],
];

export function lookupById(state: StateData, id: string): unknown {
  for (const [prefix, table] of TABLES) {
    if (!id.startsWith(prefix)) continue;
    const found = (state[table] as Record<string, unknown>)[id];
    if (found !== undefined) return structuredClone(found);
    // A deleted customer still expands, to Stripe's deleted stub.
    if (prefix === "cus_") return { id, object: "customer", deleted: true };
  }
  return undefined;
}

function isNode(v: unknown): v is Node {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

function walk(state: StateData, node: Node, segments: string[], full: string): void {
  const [seg, ...rest] = segments;
  if (seg === undefined) return;
  if (node.object === "list" && seg === "data" && Array.isArray(node.data)) {
    for (const item of node.data) if (isNode(item)) walk(state, item, rest, full);
    return;
  }
  if (!(seg in node)) throw invalidRequest(`This property cannot be expanded (${seg}).`, "expand");
  let value = node[seg];
  if (typeof value === "string") {
    const expanded = lookupById(state, value);
    if (expanded === undefined) throw invalidRequest(`This property cannot be expanded (${seg}).`, "expand");
    node[seg] = expanded;
    value = expanded;
  } else if (value !== null && !isNode(value)) {
    throw invalidRequest(`This property cannot be expanded (${seg}).`, "expand");
  }
  if (isNode(value)) walk(state, value, rest, full);
}

/** A deep copy of `object` with `paths` expanded. */
export function expand<T>(state: StateData, object: T, paths: readonly string[] | undefined): T {
  if (!paths || paths.length === 0) return object;
  const copy = structuredClone(object) as Node;
  for (const path of paths) {
    const segments = path.split(".");
    if (segments.length > 4)
      throw invalidRequest(`You cannot expand more than 4 levels of a property. Property: ${path}`, "expand");
    walk(state, copy, segments, path);
  }
  return copy as T;
}
