/** Events (list, retrieve) and webhook endpoints (create with a signing secret, list, update, delete). */
import { z } from "zod";
import { mergeMetadata } from "./billing.ts";
import { invalidRequest } from "./errors.ts";
import { eventTypeMatches } from "./events.ts";
import { newId, nowSeconds } from "./ids.ts";
import type { WebhookEndpoint } from "./objects.ts";
import {
  expandParam,
  formBool,
  inRange,
  metadataParam,
  paginationShape,
  parseParams,
  rangeParam,
} from "./params.ts";
import { type Handler, one, retrieve } from "./resources.ts";
import { must, page, type StateData } from "./state.ts";

// ── webhook endpoints ──────────────────────────────────────────────────────

const createEndpoint: Handler = ({ params, billing }) => {
  const p = parseParams(
    z.strictObject({
      url: z.string().url(),
      enabled_events: z.array(z.string()),
      description: z.string().optional(),
      metadata: metadataParam.optional(),
      api_version: z.string().optional(),
      connect: formBool.optional(),
      expand: expandParam,
    }),
    params,
  );
  const endpoint = addEndpoint(billing.state, {
    url: p.url,
    enabledEvents: p.enabled_events,
    description: p.description ?? null,
    metadata: mergeMetadata({}, p.metadata),
    apiVersion: p.api_version ?? null,
  });
  return { ...endpoint, secret: billing.state.endpointSecrets[endpoint.id] };
};

export function addEndpoint(
  state: StateData,
  input: {
    url: string;
    enabledEvents: string[];
    secret?: string;
    description?: string | null;
    metadata?: Record<string, string>;
    apiVersion?: string | null;
  },
): WebhookEndpoint {
  const endpoint: WebhookEndpoint = {
    id: newId("we"),
    object: "webhook_endpoint",
    api_version: input.apiVersion ?? null,
    application: null,
    created: nowSeconds(),
    description: input.description ?? null,
    enabled_events: input.enabledEvents,
    livemode: false,
    metadata: input.metadata ?? {},
    status: "enabled",
    url: input.url,
  };
  state.webhookEndpoints[endpoint.id] = endpoint;
  state.endpointSecrets[endpoint.id] = input.secret ?? `whsec_${newId("x").slice(2)}${newId("x").slice(2)}`;
  return endpoint;
}

const updateEndpoint: Handler = ({ params, billing, ids: [id = ""] }) => {
  const p = parseParams(
    z.strictObject({
      url: z.string().url().optional(),
      enabled_events: z.array(z.string()).optional(),
      disabled: formBool.optional(),
      description: z.string().optional(),
      metadata: metadataParam.optional(),
      expand: expandParam,
    }),
    params,
  );
  const endpoint = must(billing.state.webhookEndpoints, id, "webhook endpoint");
  if (p.url) endpoint.url = p.url;
  if (p.enabled_events) endpoint.enabled_events = p.enabled_events;
  if (p.disabled !== undefined) endpoint.status = p.disabled ? "disabled" : "enabled";
  if (p.description !== undefined) endpoint.description = p.description || null;
  endpoint.metadata = mergeMetadata(endpoint.metadata, p.metadata);
  return endpoint;
};

const deleteEndpoint: Handler = ({ billing, ids: [id = ""] }) => {
  must(billing.state.webhookEndpoints, id, "webhook endpoint");
  delete billing.state.webhookEndpoints[id];
  delete billing.state.endpointSecrets[id];
  return { id, object: "webhook_endpoint", deleted: true };
};

const listEndpoints: Handler = ({ params, billing }) => {
  const p = parseParams(z.strictObject(paginationShape), params);
  return page(Object.values(billing.state.webhookEndpoints), p, "/v1/webhook_endpoints");
};

// ── events ─────────────────────────────────────────────────────────────────

const listEvents: Handler = ({ params, billing }) => {
  const p = parseParams(
    z.strictObject({
      ...paginationShape,
      type: z.string().optional(),
      types: z.array(z.string()).optional(),
      created: rangeParam.optional(),
      delivery_success: formBool.optional(),
    }),
    params,
  );
  if (p.type && p.types)
    throw invalidRequest("You may only specify one of these parameters: type, types.", "types");
  const patterns = p.types ?? (p.type ? [p.type] : undefined);
  const items = Object.values(billing.state.events).filter(
    (e) =>
      (!patterns || patterns.some((x) => eventTypeMatches(x, e.type))) &&
      inRange(e.created, p.created) &&
      (p.delivery_success === undefined || (e.pending_webhooks === 0) === p.delivery_success),
  );
  return one(billing.state, page(items, p, "/v1/events"), p.expand);
};

export const EVENT_ROUTES: [method: string, path: string, handler: Handler][] = [
  ["POST", "/v1/webhook_endpoints", createEndpoint],
  ["GET", "/v1/webhook_endpoints", listEndpoints],
  ["GET", "/v1/webhook_endpoints/:id", retrieve("webhookEndpoints", "webhook endpoint")],
  ["POST", "/v1/webhook_endpoints/:id", updateEndpoint],
  ["DELETE", "/v1/webhook_endpoints/:id", deleteEndpoint],
  ["GET", "/v1/events", listEvents],
  ["GET", "/v1/events/:id", retrieve("events", "event")],
];
