/**
 * Intent: a request may change something only when it comes from the portal's own pages.
 *
 * The session cookie is `SameSite=Lax`, which browsers still send on a top-level GET from any
 * site, and on every request from a *same-site* page (another subdomain of the same registrable
 * domain, where customers' own MindRoom instances live). So the cookie says who, never that they
 * meant it. The rule, applied once in the middleware before any route or server function runs:
 *
 * - server functions (`/_server`) answer only POST: SolidStart 2.0.5 would otherwise run any of
 *   them from `GET /_server?id=…&args=…`, i.e. from a link or an image;
 * - every other method than GET/HEAD/OPTIONS must come from this exact origin: the browser's
 *   `Sec-Fetch-Site: same-origin` when it sends fetch metadata, else an `Origin` equal to the
 *   portal's public origin; a request with neither is refused (every current browser sends one
 *   of them on a POST, so only non-browser clients, which carry no victim's cookie, lack both);
 * - GET/HEAD never change anything: no route or page acts on them (the emailed sign-in link
 *   lands on a page whose button POSTs).
 */

export type Intent =
  | { readonly allowed: true }
  | { readonly allowed: false; readonly status: 403 | 405; readonly reason: string };

export interface RequestFacts {
  readonly method: string;
  readonly pathname: string;
  readonly headers: Headers;
}

const READS = new Set(["GET", "HEAD", "OPTIONS"]);
export const SERVER_FUNCTIONS = "/_server";

export function judgeIntent(request: RequestFacts, portalOrigin: string): Intent {
  const method = request.method.toUpperCase();
  if (request.pathname === SERVER_FUNCTIONS || request.pathname.startsWith(`${SERVER_FUNCTIONS}/`)) {
    if (method !== "POST")
      return { allowed: false, status: 405, reason: "server functions are called with POST only" };
  } else if (READS.has(method)) {
    return { allowed: true };
  }
  const site = request.headers.get("sec-fetch-site");
  if (site !== null) {
    return site === "same-origin"
      ? { allowed: true }
      : { allowed: false, status: 403, reason: `a ${site} request cannot change anything here` };
  }
  const origin = request.headers.get("origin");
  if (origin === null)
    return { allowed: false, status: 403, reason: "the request names no origin (Origin or Sec-Fetch-Site)" };
  return origin === portalOrigin
    ? { allowed: true }
    : { allowed: false, status: 403, reason: "the request comes from another origin" };
}

/** The refusal people (or scripts) see: plain text, saying what happened and what to do. */
export function refusal(intent: Intent & { allowed: false }): Response {
  const headers: Record<string, string> = {
    "content-type": "text/plain; charset=utf-8",
    "cache-control": "no-store",
  };
  if (intent.status === 405) headers.allow = "POST";
  return new Response(
    `Refused: ${intent.reason}. Nothing was changed. Open the portal and use its own pages to make changes.\n`,
    { status: intent.status, headers },
  );
}
