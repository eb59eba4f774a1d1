/**
 * Stripe's Search API for customers and subscriptions: `email:'a@b.c'`,
 * `metadata['user_id']:'u1'`, `name~'ann'`, `status:'active'`, `created>1700000000`,
 * clauses joined by AND or OR (not both), `-` negating one.
 */
import { z } from "zod";
import { invalidRequest } from "./errors.ts";
import { expandParam, formInt, nonEmpty, parseParams } from "./params.ts";
import type { ApiRequest, Handler } from "./resources.ts";
import { one } from "./resources.ts";

type Clause = { negate: boolean; field: string; key: string | null; op: string; value: string };

const CLAUSE = /^(-)?([a-z_]+)(?:\['([^']+)'\])?(:|~|>=|<=|>|<)(?:'([^']*)'|"([^"]*)"|(-?\d+))$/;

function parseQuery(query: string, fields: readonly string[]): { clauses: Clause[]; any: boolean } {
  const parts = query.trim().split(/\s+(AND|OR)\s+/);
  const joins = new Set(parts.filter((_, i) => i % 2 === 1));
  if (joins.size > 1) throw invalidRequest("Search queries cannot mix AND and OR.", "query");
  const clauses = parts
    .filter((_, i) => i % 2 === 0)
    .map((text): Clause => {
      const m = CLAUSE.exec(text);
      if (!m) throw invalidRequest(`We could not parse the query '${query}' near '${text}'.`, "query");
      const field = m[2] ?? "";
      if (!fields.includes(field))
        throw invalidRequest(
          `Field '${field}' is not supported for search. Try one of: ${fields.join(", ")}.`,
          "query",
        );
      return {
        negate: m[1] === "-",
        field,
        key: m[3] ?? null,
        op: m[4] ?? ":",
        value: m[5] ?? m[6] ?? m[7] ?? "",
      };
    });
  return { clauses, any: joins.has("OR") };
}

function matches(object: Record<string, unknown>, c: Clause): boolean {
  const raw =
    c.key !== null ? (object[c.field] as Record<string, string> | undefined)?.[c.key] : object[c.field];
  let ok: boolean;
  if (c.op === ":") ok = raw !== undefined && raw !== null && String(raw) === c.value;
  else if (c.op === "~") ok = typeof raw === "string" && raw.toLowerCase().includes(c.value.toLowerCase());
  else {
    const n = Number(raw);
    const v = Number(c.value);
    ok = c.op === ">" ? n > v : c.op === "<" ? n < v : c.op === ">=" ? n >= v : n <= v;
  }
  return c.negate ? !ok : ok;
}

export function searchHandler(
  table: "customers" | "subscriptions",
  fields: readonly string[],
  url: string,
): Handler {
  return ({ params, billing }: ApiRequest) => {
    const p = parseParams(
      z.strictObject({
        query: nonEmpty,
        limit: formInt.optional(),
        page: z.string().optional(),
        expand: expandParam,
      }),
      params,
    );
    const { clauses, any } = parseQuery(p.query, fields);
    const items = Object.values(billing.state[table] as Record<string, Record<string, unknown>>)
      .filter((o) => (any ? clauses.some((c) => matches(o, c)) : clauses.every((c) => matches(o, c))))
      .reverse();
    const limit = p.limit ?? 10;
    return one(
      billing.state,
      {
        object: "search_result",
        data: items.slice(0, limit),
        has_more: items.length > limit,
        next_page: null,
        url,
      },
      p.expand,
    );
  };
}

export const SEARCH_ROUTES: [method: string, path: string, handler: Handler][] = [
  [
    "GET",
    "/v1/customers/search",
    searchHandler("customers", ["email", "name", "phone", "metadata", "created"], "/v1/customers/search"),
  ],
  [
    "GET",
    "/v1/subscriptions/search",
    searchHandler("subscriptions", ["status", "metadata", "created"], "/v1/subscriptions/search"),
  ],
];
