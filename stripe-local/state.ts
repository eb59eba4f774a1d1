/**
 * Everything the local Stripe API knows, as one JSON document: Stripe-shaped
 * objects by kind (insertion order = creation order), plus what a checkout
 * session will create and each event's delivery status per endpoint. Kept in
 * memory; written atomically to the state file after every change when one is
 * given, so a restarted local platform keeps its customers.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { LOCAL_CATALOG } from "./catalog.ts";
import { parameterInvalid, resourceMissing } from "./errors.ts";
import type { StripeEvent } from "./events.ts";
import {
  type ApiList,
  type CheckoutPlan,
  type CheckoutSession,
  type Customer,
  catalogPrice,
  catalogProduct,
  type Invoice,
  type PaymentMethod,
  type PortalSession,
  type Price,
  type Product,
  type Subscription,
  type WebhookEndpoint,
} from "./objects.ts";

export interface EndpointDelivery {
  attempts: number;
  succeeded: boolean;
  /** True once retries are exhausted without success. */
  failed: boolean;
  lastStatus: number | null;
  lastError: string | null;
  lastAttemptAt: number | null;
}

export interface StateData {
  version: 1;
  customers: Record<string, Customer>;
  /** Ids of deleted customers: retrieving one answers Stripe's `{ deleted: true }` stub. */
  deletedCustomers: string[];
  products: Record<string, Product>;
  prices: Record<string, Price>;
  subscriptions: Record<string, Subscription>;
  invoices: Record<string, Invoice>;
  paymentMethods: Record<string, PaymentMethod>;
  checkoutSessions: Record<string, CheckoutSession>;
  checkoutPlans: Record<string, CheckoutPlan>;
  portalSessions: Record<string, PortalSession>;
  events: Record<string, StripeEvent>;
  /** event id → endpoint id → delivery status */
  deliveries: Record<string, Record<string, EndpointDelivery>>;
  webhookEndpoints: Record<string, WebhookEndpoint>;
  /** endpoint id → its `whsec_…` signing secret (never listed) */
  endpointSecrets: Record<string, string>;
  invoiceSequence: number;
}

export function emptyState(): StateData {
  const products: Record<string, Product> = {};
  const prices: Record<string, Price> = {};
  for (const e of LOCAL_CATALOG) {
    products[e.productId] = catalogProduct(e);
    prices[e.priceId] = catalogPrice(e);
  }
  return {
    version: 1,
    customers: {},
    deletedCustomers: [],
    products,
    prices,
    subscriptions: {},
    invoices: {},
    paymentMethods: {},
    checkoutSessions: {},
    checkoutPlans: {},
    portalSessions: {},
    events: {},
    deliveries: {},
    webhookEndpoints: {},
    endpointSecrets: {},
    invoiceSequence: 1,
  };
}

export class StateFileError extends Error {
  override readonly name = "StateFileError";
}

export function loadState(file: string | undefined): StateData {
  if (!file || !existsSync(file)) return emptyState();
  let parsed: StateData;
  try {
    parsed = JSON.parse(readFileSync(file, "utf8")) as StateData;
  } catch (error) {
    throw new StateFileError(
      `the local Stripe state file ${file} is not valid JSON (${(error as Error).message}); move it away to start empty`,
    );
  }
  if (parsed.version !== 1)
    throw new StateFileError(
      `the local Stripe state file ${file} has unknown version ${String(parsed.version)}`,
    );
  // Catalog entries are always the contract's, whatever an old file says.
  const fresh = emptyState();
  return {
    ...fresh,
    ...parsed,
    products: { ...parsed.products, ...fresh.products },
    prices: { ...parsed.prices, ...fresh.prices },
  };
}

export function saveState(file: string, state: StateData): void {
  mkdirSync(dirname(file), { recursive: true });
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(temp, JSON.stringify(state), { mode: 0o600 });
  renameSync(temp, file);
}

/** Looks an object up by id, or throws Stripe's `resource_missing` for it. */
export function must<T>(table: Record<string, T>, id: string, kind: string, param = "id"): T {
  const found = Object.hasOwn(table, id) ? table[id] : undefined;
  if (found === undefined) throw resourceMissing(kind, id, param);
  return found;
}

export interface PageParams {
  limit?: number;
  starting_after?: string;
  ending_before?: string;
}

/**
 * One page of a Stripe list, newest first. `items` is in creation order (the
 * tables' insertion order); cursors are object ids, as in Stripe.
 */
export function page<T extends { id: string }>(
  items: readonly T[],
  params: PageParams,
  url: string,
): ApiList<T> {
  const limit = params.limit ?? 10;
  if (limit < 1 || limit > 100)
    throw parameterInvalid(
      "limit",
      "This value must be greater than or equal to 1 and less than or equal to 100.",
      "parameter_invalid_integer",
    );
  const newest = [...items].reverse();
  if (params.ending_before !== undefined) {
    const at = newest.findIndex((o) => o.id === params.ending_before);
    if (at < 0) throw resourceMissing("object", params.ending_before, "ending_before");
    const before = newest.slice(0, at);
    const data = before.slice(Math.max(0, before.length - limit));
    return { object: "list", data, has_more: before.length > data.length, url };
  }
  let start = 0;
  if (params.starting_after !== undefined) {
    const at = newest.findIndex((o) => o.id === params.starting_after);
    if (at < 0) throw resourceMissing("object", params.starting_after, "starting_after");
    start = at + 1;
  }
  const data = newest.slice(start, start + limit);
  return { object: "list", data, has_more: start + limit < newest.length, url };
}
