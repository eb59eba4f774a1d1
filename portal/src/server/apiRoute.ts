/**
 * One place that turns an API route's outcome into a response: JSON on success, 401/403 for
 * `AccessDeniedError`, 400 for bad input, and a bare 500 (details only in the server log) otherwise.
 */
import { logServerError } from "./errorLog.ts";
import { AccessDeniedError } from "./identity.ts";

export class BadRequestError extends Error {
  override readonly name = "BadRequestError";
}

const JSON_HEADERS = { "content-type": "application/json; charset=utf-8", "cache-control": "no-store" };

export async function jsonRoute(
  fn: () => Promise<unknown>,
  headers: Record<string, string> = {},
): Promise<Response> {
  try {
    return new Response(JSON.stringify(await fn()), {
      status: 200,
      headers: { ...JSON_HEADERS, ...headers },
    });
  } catch (error) {
    if (error instanceof AccessDeniedError) {
      return new Response(
        JSON.stringify({
          error: { code: error.status === 401 ? "unauthenticated" : "forbidden", message: error.message },
        }),
        {
          status: error.status,
          headers: JSON_HEADERS,
        },
      );
    }
    if (error instanceof BadRequestError) {
      return new Response(JSON.stringify({ error: { code: "bad_request", message: error.message } }), {
        status: 400,
        headers: JSON_HEADERS,
      });
    }
    logServerError("api route failed", error);
    return new Response(JSON.stringify({ error: { code: "internal", message: "internal error" } }), {
      status: 500,
      headers: JSON_HEADERS,
    });
  }
}
