/**
 * A faithful, stateful local Stripe API for stripe-node (`new Stripe(key, {
 * host, port, protocol: "http" })`): Bearer secret-key auth, form-encoded
 * bracket-notation parameters, Stripe's error JSON, `Idempotency-Key` replay,
 * lists with cursors, `expand`, events delivered signed to webhook endpoints,
 * hosted Checkout and Billing Portal pages, and local lifecycle controls under
 * `/_local/` (see stripe-local/README.md).
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { LOCAL_SECRET_KEY, STRIPE_API_VERSION } from "../billing/stripeClient.ts";
import { Billing } from "./billing.ts";
import { StripeApiError, unrecognizedUrl } from "./errors.ts";
import { addEndpoint, EVENT_ROUTES } from "./eventRoutes.ts";
import { buildEvent, type EventInput } from "./events.ts";
import { handleHostedPage } from "./hostedRoutes.ts";
import { newId } from "./ids.ts";
import { handleLocalControl } from "./localRoutes.ts";
import { parseForm } from "./params.ts";
import { type RateLimitSettings, RequestRateLimiter } from "./rateLimit.ts";
import { type Handler, RESOURCE_ROUTES } from "./resources.ts";
import { SEARCH_ROUTES } from "./search.ts";
import { emptyState, loadState, type StateData, saveState } from "./state.ts";
import { SUBSCRIPTION_ROUTES } from "./subscriptionRoutes.ts";
import { type DeliveryAttempt, WebhookSender } from "./webhookSender.ts";

export interface WebhookTarget {
  url: string;
  /** `whsec_…`; generated when omitted (read it back from {@link StripeLocal.endpoints}). */
  secret?: string;
  /** Default `["*"]`. */
  enabledEvents?: string[];
}

export interface StripeLocalOptions {
  /** Port on {@link host}; a free one when omitted. */
  port?: number;
  host?: string;
  /** Persist state here (JSON, written after every change); in memory only when omitted. */
  stateFile?: string;
  /** Endpoints registered at start (an existing endpoint with the same URL gets the given secret). */
  webhooks?: WebhookTarget[];
  /** Send events as they happen (default). When false, only `deliverPending()` sends. */
  autoDeliver?: boolean;
  /** The secret key clients must present; default `sk_test_mindroom_local`. */
  secretKey?: string;
  /** Waits before each delivery retry (default 0.5 s doubling to 16 s, six retries). */
  retryDelaysMs?: readonly number[];
  /** Let the process exit while the server listens (test workers). */
  unref?: boolean;
  /** Answer `/v1/` requests beyond this rate with Stripe's 429 (rateLimit.ts); off by default. */
  rateLimit?: RateLimitSettings;
}

export interface StripeLocal {
  /** `http://127.0.0.1:<port>`: STRIPE_API_BASE for clients, and the base of hosted pages. */
  url: string;
  port: number;
  secretKey: string;
  /** The live state (mutating it bypasses events; use the API or controls). */
  state(): StateData;
  /** Registered endpoints with their signing secrets. */
  endpoints(): { id: string; url: string; secret: string }[];
  addWebhookEndpoint(target: WebhookTarget): { id: string; secret: string };
  /** Sends events still pending (for `autoDeliver: false`); returns how many deliveries started. */
  deliverPending(): number;
  /** Resolves when no delivery is in flight or waiting to be retried. */
  idle(): Promise<void>;
  attempts(): readonly DeliveryAttempt[];
  /** Back to the seeded catalog (webhook endpoints are kept). */
  reset(): void;
  /** Turns Stripe's rate limiter on (or off with null) from now on. */
  setRateLimit(settings: RateLimitSettings | null): void;
  /** How many requests were answered 429 so far. */
  rateLimited(): number;
  stop(): Promise<void>;
}

type Route = { method: string; pattern: RegExp; handler: Handler };

// Search first: `/v1/customers/search` would otherwise match `/v1/customers/:id`.
const ROUTES: Route[] = [...SEARCH_ROUTES, ...SUBSCRIPTION_ROUTES, ...EVENT_ROUTES, ...RESOURCE_ROUTES].map(
  ([method, path, handler]) => ({
    method,
    pattern: new RegExp(`^${path.replaceAll(":id", "([^/]+)")}$`),
    handler,
  }),
);

const BODY_LIMIT = 1024 * 1024;

export async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > BODY_LIMIT)
      throw new StripeApiError(413, { type: "invalid_request_error", message: "Request body too large." });
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body, null, 2);
  res.writeHead(status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

function authError(message: string): StripeApiError {
  return new StripeApiError(401, { type: "invalid_request_error", message });
}

function checkAuth(req: IncomingMessage, secretKey: string): void {
  const header = req.headers.authorization;
  if (!header)
    throw authError(
      "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See https://stripe.com/docs/api#authentication for details, or we can help at https://support.stripe.com/.",
    );
  let key = "";
  if (header.startsWith("Bearer ")) key = header.slice(7).trim();
  else if (header.startsWith("Basic "))
    key = Buffer.from(header.slice(6), "base64").toString("utf8").split(":")[0] ?? "";
  if (key !== secretKey) {
    const masked =
      key.length > 8
        ? `${key.slice(0, 8)}${"*".repeat(Math.max(0, key.length - 12))}${key.slice(-4)}`
        : "****";
    throw authError(`Invalid API Key provided: ${masked}`);
  }
}

interface IdempotentResult {
  fingerprint: string;
  status: number;
  body: unknown;
}

export async function startStripeLocal(options: StripeLocalOptions = {}): Promise<StripeLocal> {
  const secretKey = options.secretKey ?? LOCAL_SECRET_KEY;
  let state = loadState(options.stateFile);
  let baseUrl = "";
  const idempotency = new Map<string, IdempotentResult>();
  let currentRequest: { id: string; idempotency_key: string | null } | null = null;
  const limiter = new RequestRateLimiter(options.rateLimit ?? null);

  let persistQueued = false;
  const persist = () => {
    if (!options.stateFile || persistQueued) return;
    persistQueued = true;
    setImmediate(() => {
      persistQueued = false;
      if (options.stateFile) saveState(options.stateFile, state);
    });
  };

  let sender = new WebhookSender(state, { ...options, onChange: persist });
  const emit = (input: EventInput) => {
    const event = buildEvent({ ...input, ...(currentRequest ? { request: currentRequest } : {}) });
    state.events[event.id] = event;
    sender.enqueue(event);
  };
  let billing = new Billing(state, emit, () => baseUrl);

  const register = (target: WebhookTarget): { id: string; secret: string } => {
    const existing = Object.values(state.webhookEndpoints).find((e) => e.url === target.url);
    if (existing) {
      if (target.secret) state.endpointSecrets[existing.id] = target.secret;
      if (target.enabledEvents) existing.enabled_events = target.enabledEvents;
      return { id: existing.id, secret: state.endpointSecrets[existing.id] ?? "" };
    }
    const endpoint = addEndpoint(state, {
      url: target.url,
      enabledEvents: target.enabledEvents ?? ["*"],
      ...(target.secret ? { secret: target.secret } : {}),
    });
    persist();
    return { id: endpoint.id, secret: state.endpointSecrets[endpoint.id] ?? "" };
  };
  for (const target of options.webhooks ?? []) register(target);

  const reset = () => {
    const endpoints = state.webhookEndpoints;
    const secrets = state.endpointSecrets;
    state = { ...emptyState(), webhookEndpoints: endpoints, endpointSecrets: secrets };
    void sender.stop();
    sender = new WebhookSender(state, { ...options, onChange: persist });
    billing = new Billing(state, emit, () => baseUrl);
    idempotency.clear();
    persist();
  };

  const api = async (req: IncomingMessage, res: ServerResponse, url: URL, body: string) => {
    const method = req.method ?? "GET";
    const requestId = newId("req");
    const headers: Record<string, string> = {
      "request-id": requestId,
      "stripe-version": (req.headers["stripe-version"] as string | undefined) ?? STRIPE_API_VERSION,
    };
    try {
      checkAuth(req, secretKey);
      limiter.take(headers);
      const route = ROUTES.find((r) => r.method === method && r.pattern.test(url.pathname));
      if (!route) throw unrecognizedUrl(method, url.pathname);
      const ids = (route.pattern.exec(url.pathname) ?? []).slice(1).map(decodeURIComponent);
      const params = { ...parseForm(url.search.slice(1)), ...parseForm(body) };
      const key = method === "POST" ? (req.headers["idempotency-key"] as string | undefined) : undefined;
      if (key) headers["idempotency-key"] = key;
      const fingerprint = JSON.stringify([method, url.pathname, params]);
      const cached = key ? idempotency.get(key) : undefined;
      if (cached) {
        if (cached.fingerprint !== fingerprint)
          throw new StripeApiError(400, {
            type: "idempotency_error",
            message: `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${key}' if you meant to execute a different request.`,
          });
        return sendJson(res, cached.status, cached.body, { ...headers, "idempotent-replayed": "true" });
      }
      currentRequest = { id: requestId, idempotency_key: key ?? null };
      let result: unknown;
      try {
        result = route.handler({ method, ids, params, billing, sender });
      } finally {
        currentRequest = null;
      }
      if (key) idempotency.set(key, { fingerprint, status: 200, body: result });
      if (method !== "GET") persist();
      sendJson(res, 200, result, headers);
    } catch (error) {
      if (method !== "GET") persist();
      if (error instanceof StripeApiError) return sendJson(res, error.status, error.toJSON(), headers);
      sendJson(
        res,
        500,
        { error: { type: "api_error", message: `local Stripe API failure: ${(error as Error).message}` } },
        { ...headers, "stripe-should-retry": "false" },
      );
    }
  };

  const server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? "/", "http://local");
      try {
        const body = req.method === "GET" || req.method === "HEAD" ? "" : await readBody(req);
        if (url.pathname.startsWith("/v1/")) return await api(req, res, url, body);
        if (url.pathname.startsWith("/_local")) {
          checkAuth(req, secretKey);
          return await handleLocalControl({
            req,
            res,
            url,
            body,
            billing,
            sender,
            reset: () => reset(),
            persist,
            state: () => state,
          });
        }
        if (handleHostedPage({ req, res, url, body, billing })) return persist();
        if (url.pathname === "/" || url.pathname === "/healthz")
          return sendJson(res, 200, { ok: true, api_version: STRIPE_API_VERSION });
        throw unrecognizedUrl(req.method ?? "GET", url.pathname);
      } catch (error) {
        if (error instanceof StripeApiError) return sendJson(res, error.status, error.toJSON());
        sendJson(res, 500, { error: { type: "api_error", message: (error as Error).message } });
      }
    })();
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, options.host ?? "127.0.0.1", () => resolve());
  });
  if (options.unref) server.unref();
  const port = (server.address() as AddressInfo).port;
  baseUrl = `http://${options.host && options.host !== "0.0.0.0" ? options.host : "127.0.0.1"}:${port}`;
  persist();
  // Deliveries interrupted by a restart go out again.
  if (options.autoDeliver !== false) sender.deliverPending();

  return {
    url: baseUrl,
    port,
    secretKey,
    state: () => state,
    endpoints: () =>
      Object.values(state.webhookEndpoints).map((e) => ({
        id: e.id,
        url: e.url,
        secret: state.endpointSecrets[e.id] ?? "",
      })),
    addWebhookEndpoint: register,
    deliverPending: () => sender.deliverPending(),
    idle: () => sender.idle(),
    attempts: () => sender.attempts,
    reset,
    setRateLimit: (settings) => limiter.set(settings),
    rateLimited: () => limiter.limited,
    stop: async () => {
      await sender.stop();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      if (options.stateFile) saveState(options.stateFile, state);
    },
  };
}
