/**
 * Intent: a request may change something only when it comes from the portal's own pages.
 *
 * The session cookie is `SameSite=Lax`, which browsers still send on a top-level GET from any
 * site, and on every request from a *same-site* page (another subdomain of the same registrable
 * domain, where customers' own MindRoom instances live). So the cookie says who, never that they
 * meant it. Two rules:
 *
 * 1. In the middleware, before any route or server function runs (`judgeIntent`):
 *    - every request other than GET/HEAD/OPTIONS must come from this exact origin: the browser's
 *      `Sec-Fetch-Site: same-origin` when it sends fetch metadata, else an `Origin` equal to the
 *      portal's public origin; one with neither is refused (every current browser sends one of
 *      them on a POST; only non-browser clients, which carry no victim's cookie, lack both);
 *    - server functions (`/_server`) are POST, or GET for queries: the router fetches query
 *      results with `GET /_server?id=…&args=…`, which SolidStart 2.0.5 (npm's latest) would run
 *      for any function, from a link or an image on any site. So a GET must carry
 *      `Sec-Fetch-Site: same-origin` too: browsers without fetch metadata (none current) get
 *      server-rendered pages but no client-side data loading.
 * 2. In every action (`requireChangeRequest`): it runs on POST only, so even a same-origin GET,
 *    which the middleware lets through for queries, can never run one.
 *
 * Pages and API routes never change anything on a GET (the emailed sign-in link opens a page
 * whose button POSTs).
 */
import { getRequestEvent } from "solid-js/web";

export type Intent =
  | { readonly allowed: true }
  | { readonly allowed: false; readonly status: 403 | 405; readonly reason: string };

export interface RequestFacts {
  readonly method: string;
  readonly pathname: string;
  readonly headers: Headers;
}

const READS = new Set(["GET", "HEAD", "OPTIONS"]);
const SERVER_FUNCTIONS = "/_server";

function sameOrigin(headers: Headers, portalOrigin: string): Intent {
  const site = headers.get("sec-fetch-site");
  if (site !== null) {
    return site === "same-origin"
      ? { allowed: true }
      : { allowed: false, status: 403, reason: `a ${site} request cannot do this here` };
  }
  const origin = headers.get("origin");
  if (origin === null)
    return { allowed: false, status: 403, reason: "the request names no origin (Origin or Sec-Fetch-Site)" };
  return origin === portalOrigin
    ? { allowed: true }
    : { allowed: false, status: 403, reason: "the request comes from another origin" };
}

export function judgeIntent(request: RequestFacts, portalOrigin: string): Intent {
  const method = request.method.toUpperCase();
  const serverFunction =
    request.pathname === SERVER_FUNCTIONS || request.pathname.startsWith(`${SERVER_FUNCTIONS}/`);
  if (serverFunction) {
    if (method !== "POST" && method !== "GET")
      return {
        allowed: false,
        status: 405,
        reason: "server functions are called with POST (or GET for reads)",
      };
    return sameOrigin(request.headers, portalOrigin);
  }
  return READS.has(method) ? { allowed: true } : sameOrigin(request.headers, portalOrigin);
}

/** The refusal people (or scripts) see: plain text, saying what happened and what to do. */
export function refusal(intent: Intent & { allowed: false }): Response {
  const headers: Record<string, string> = {
    "content-type": "text/plain; charset=utf-8",
    "cache-control": "no-store",
  };
  if (intent.status === 405) headers.allow = "GET, POST";
  return new Response(
    `Refused: ${intent.reason}. Nothing was changed. Open the portal and use its own pages to make changes.\n`,
    { status: intent.status, headers },
  );
}

/**
 * First line of every action: actions change things, so they run on POST only. The router
 * fetches queries with GET; this keeps an action's id in a GET URL from ever running it.
 */
export function requireChangeRequest(): void {
  const method = getRequestEvent()?.request.method;
  if (method !== undefined && method !== "POST")
    throw new Response("Refused: an action runs on POST only. Nothing was changed.\n", {
      status: 405,
      headers: { allow: "POST", "content-type": "text/plain; charset=utf-8" },
    });
}
