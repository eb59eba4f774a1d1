/**
 * The portal's request log: one line per HTTP request the server handles (documents, server
 * functions, API routes, assets at debug level) with its request id, method, path (never the query
 * string: sign-in links carry codes there), status and duration. The id comes from a proxy's
 * `X-Request-Id` when it is well-formed, otherwise a new one; it goes back in the response header
 * and rides along on any reconcile job the request queues (reconcileQueue.ts), so a customer's
 * restart can be followed from the portal through the worker to the operation row.
 */
import { getRequestEvent } from "solid-js/web";
import { requestIdFrom } from "../../../logging/requestId.ts";
import { log } from "./log.ts";

const CONTEXT_KEY = "mindroomRequestId";

/** The parts of h3's event the log reads (h3 is SolidStart's, not ours to import). */
interface HttpEvent {
  readonly req: Request;
  readonly res: { readonly status?: number; readonly headers: Headers };
  readonly context: Record<string, unknown>;
}

/** The id of the request being handled, for whatever it queues or logs. */
export function currentRequestId(): string | undefined {
  const id = (getRequestEvent()?.nativeEvent as HttpEvent | undefined)?.context[CONTEXT_KEY];
  return typeof id === "string" ? id : undefined;
}

/** Outermost middleware: wraps everything else, so refused and redirected requests are logged too. */
export async function requestLog(event: HttpEvent, next: () => unknown): Promise<unknown> {
  const started = performance.now();
  const requestId = requestIdFrom(event.req.headers.get("x-request-id"));
  event.context[CONTEXT_KEY] = requestId;
  event.res.headers.set("x-request-id", requestId);
  const url = new URL(event.req.url);
  const line = (status: number, error?: unknown) => {
    const fields = {
      requestId,
      method: event.req.method,
      path: url.pathname,
      status,
      durationMs: Math.round((performance.now() - started) * 100) / 100,
      ...(error === undefined ? {} : { error }),
    };
    if (status >= 500) log.error("request", fields);
    else if (status >= 400) log.warn("request", fields);
    else if (url.pathname.startsWith("/_build/") || url.pathname.startsWith("/assets/"))
      log.debug("request", fields);
    else log.info("request", fields);
  };
  try {
    const value = await next();
    if (value instanceof Response) {
      // A copy: a Response.redirect()'s headers are immutable.
      const response = new Response(value.body, value);
      response.headers.set("x-request-id", requestId);
      line(response.status);
      return response;
    }
    line(event.res.status ?? 200);
    return value;
  } catch (error) {
    const status = (error as { status?: unknown }).status;
    line(typeof status === "number" ? status : 500, error);
    throw error;
  }
}
