/**
 * Runs before every HTTP request the server handles (documents, server functions, API routes).
 * Client-side navigations never pass through it, so every server function and API route verifies
 * identity itself; here, for full document loads only, it
 * - resolves the session before rendering starts, so a page that needs a
 *   signed-in person (or an operator) answers a plain 302 instead of a redirect discovered
 *   mid-stream, and
 * - sets the security headers every response carries.
 */
import { createMiddleware } from "@solidjs/start/middleware";
import { isOperator, optionalIdentity } from "./server/identity.ts";

const SIGNED_IN = ["/dashboard", "/billing", "/account", "/operator"];

function under(path: string, prefixes: string[]): boolean {
  return prefixes.some((p) => path === p || path.startsWith(`${p}/`));
}

export default createMiddleware({
  onRequest: async (event) => {
    if (event.request.method !== "GET") return;
    const url = new URL(event.request.url);
    if (!under(url.pathname, SIGNED_IN)) return;
    const identity = await optionalIdentity();
    if (!identity) {
      return Response.redirect(
        new URL(`/login?next=${encodeURIComponent(url.pathname + url.search)}`, url),
        302,
      );
    }
    if (under(url.pathname, ["/operator"]) && !(await isOperator(identity))) {
      return Response.redirect(new URL("/dashboard", url), 302);
    }
  },
  onBeforeResponse: (event) => {
    const headers = event.response.headers;
    headers.set("x-content-type-options", "nosniff");
    headers.set("referrer-policy", "same-origin");
    headers.set("x-frame-options", "DENY");
  },
});
