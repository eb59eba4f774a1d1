/**
 * Runs before every HTTP request the server handles (documents, server functions, API routes).
 * Client-side navigations never pass through it, so every server function and API route verifies
 * identity itself. Here, for every request, it
 * - refuses any request that could change something unless it comes from the portal's own pages
 *   (server/requestOrigin.ts), before a route or server function runs;
 * - counts server functions, API routes and changes against the per-address and per-account
 *   request limits (server/rateLimits.ts), answering 429 past them;
 * and for full document loads only, it
 * - resolves the session before rendering starts, so a page that needs a
 *   signed-in person (or an operator) answers a plain 302 instead of a redirect discovered
 *   mid-stream, and
 * - sets the security headers every response carries.
 * Around all of it, the request log (server/requestLog.ts).
 */
import { createMiddleware } from "@solidjs/start/middleware";
import { isOperator, optionalIdentity } from "./server/identity.ts";
import { measureRequests, serveMetrics } from "./server/metrics.ts";
import { limitedResponse, requestAddress, takeLimits } from "./server/rateLimits.ts";
import { signInFor } from "./server/redirects.ts";
import { requestLog } from "./server/requestLog.ts";
import { judgeIntent, refusal } from "./server/requestOrigin.ts";
import { portalSettings } from "./server/settings.ts";

const SIGNED_IN = ["/dashboard", "/usage", "/billing", "/account", "/operator", "/mindroom"];

function under(path: string, prefixes: string[]): boolean {
  return prefixes.some((p) => path === p || path.startsWith(`${p}/`));
}

/** Server functions, API routes and every change count against the request limits; page loads do not. */
function countsAsRequest(method: string, path: string): boolean {
  return under(path, ["/_server", "/api"]) || !["GET", "HEAD", "OPTIONS"].includes(method);
}

// The internal metrics listener starts with the server (this module loads at boot).
void serveMetrics();

// Metrics and the request log outermost, so refusals, redirects and errors from the rest are counted
// and logged too.
export default [
  measureRequests,
  requestLog,
  ...createMiddleware({
    onRequest: async (event) => {
      const url = new URL(event.request.url);
      const intent = judgeIntent(
        { method: event.request.method, pathname: url.pathname, headers: event.request.headers },
        portalSettings().publicOrigin,
      );
      if (!intent.allowed) return refusal(intent);
      if (countsAsRequest(event.request.method, url.pathname)) {
        const identity = await optionalIdentity();
        const decision = await takeLimits([
          ["requests.address", { address: requestAddress() }],
          ...(identity ? [["requests.account", { account: identity.userId }] as const] : []),
        ]);
        if (!decision.allowed) return limitedResponse(decision);
      }
      if (event.request.method !== "GET") return;
      if (!under(url.pathname, SIGNED_IN)) return;
      const identity = await optionalIdentity();
      if (!identity) return Response.redirect(new URL(signInFor(url.pathname + url.search), url), 302);
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
  }),
];
