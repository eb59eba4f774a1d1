/**
 * Request ids: one id follows a request from the HTTP edge (a webhook delivery,
 * a portal request) through the reconcile job it queues to the operation row
 * (`operations.request_id`, whose check constraint is this same pattern). An id
 * from outside (a proxy's `X-Request-Id`) is kept when well-formed and replaced
 * otherwise: it ends up in logs and the database, so it stays short and plain.
 */
import { randomUUID } from "node:crypto";

export const REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;

/** The request's id: the incoming header's value if well-formed, else a new UUID. */
export function requestIdFrom(header: string | null | undefined): string {
  return header && REQUEST_ID.test(header) ? header : randomUUID();
}
