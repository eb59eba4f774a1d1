/**
 * Runs before every HTTP request the server handles (documents, server functions, API routes).
 * It does not authorise anything — client-side navigations never pass through it, so each server
 * function verifies identity itself — but for documents it refreshes an expiring Supabase session
 * before rendering starts, because cookies cannot be set once the streamed response has begun.
 * It also sets the security headers every response should carry.
 */
import { createMiddleware } from "@solidjs/start/middleware";
import { optionalIdentity } from "./server/identity.ts";

export default createMiddleware({
  onRequest: async (event) => {
    const accept = event.request.headers.get("accept") ?? "";
    if (event.request.method === "GET" && accept.includes("text/html")) {
      await optionalIdentity().catch(() => null);
    }
  },
  onBeforeResponse: (event) => {
    const headers = event.response.headers;
    headers.set("x-content-type-options", "nosniff");
    headers.set("referrer-policy", "same-origin");
    headers.set("x-frame-options", "DENY");
  },
});
