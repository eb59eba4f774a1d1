/**
 * Single sign-on into a tenant's MindRoom dashboard, as its runtime checks it
 * (mindroom/api/auth.py, platform auth mode): a short-lived, single-use HS256
 * ticket signed with the tenant's own key (`MINDROOM_PLATFORM_SSO_SECRET`),
 * `typ` mindroom_platform_sso_ticket, `aud` the tenant's public origin, `sub`
 * the owner's account id, `jti`, `iat`, `exp`, exchanged by the runtime at
 * `/api/auth/platform-sso` for its own host-only session cookie. A ticket for
 * one tenant is worthless at another: different key, different audience.
 */
import { createHmac, randomUUID } from "node:crypto";
import { deriveAccessSecret } from "../../../components/tenantSecrets.ts";

export const SSO_TICKET_TYPE = "mindroom_platform_sso_ticket";
/** Long enough for one redirect on a slow connection; the runtime allows 10 s of clock skew on top. */
export const SSO_TICKET_TTL_SECONDS = 60;
/** Where the runtime exchanges a ticket for its session. */
export const RUNTIME_SSO_PATH = "/api/auth/platform-sso";

const base64url = (data: string | Buffer) => Buffer.from(data).toString("base64url");

export interface TicketClaims {
  readonly typ: typeof SSO_TICKET_TYPE;
  readonly aud: string;
  readonly sub: string;
  readonly email?: string;
  readonly jti: string;
  readonly iat: number;
  readonly exp: number;
}

/** A signed ticket (compact JWS, HS256). `now` in seconds since the epoch. */
export function mintSsoTicket(
  key: string,
  claims: { readonly audience: string; readonly subject: string; readonly email?: string },
  now = Math.floor(Date.now() / 1000),
): { readonly ticket: string; readonly claims: TicketClaims } {
  const payload: TicketClaims = {
    typ: SSO_TICKET_TYPE,
    aud: claims.audience,
    sub: claims.subject,
    ...(claims.email ? { email: claims.email } : {}),
    jti: randomUUID(),
    iat: now,
    exp: now + SSO_TICKET_TTL_SECONDS,
  };
  const signingInput = `${base64url(JSON.stringify({ alg: "HS256", typ: "JWT" }))}.${base64url(JSON.stringify(payload))}`;
  const signature = createHmac("sha256", key).update(signingInput).digest("base64url");
  return { ticket: `${signingInput}.${signature}`, claims: payload };
}

/** The browser origin of a URL (scheme, host, non-default port), as the runtime compares audiences. */
export function originOf(url: string): string {
  return new URL(url).origin;
}

/**
 * The path (and query) to land on inside the tenant's dashboard: taken from `redirectTo` only when
 * it points at that very origin (the runtime sends `MINDROOM_PLATFORM_SSO_URL?redirect_to=<its URL>`),
 * never anything that could leave it.
 */
export function landingPath(appOrigin: string, redirectTo: string | null): string {
  if (!redirectTo) return "/";
  let target: URL;
  try {
    target = new URL(redirectTo);
  } catch {
    return "/";
  }
  if (target.origin !== appOrigin) return "/";
  const path = `${target.pathname}${target.search}`;
  // The runtime re-checks (sanitize_next_path); refuse anything a browser could read as another host.
  return /^\/(?![/\\])[^\s\\]*$/.test(path) ? path : "/";
}

/** Where "Open MindRoom" sends the owner: the tenant's ticket exchange, with a fresh ticket. */
export function ssoRedirectUrl(args: {
  readonly accessKey: string;
  readonly slug: string;
  readonly appUrl: string;
  readonly accountId: string;
  readonly email?: string;
  readonly redirectTo: string | null;
}): string {
  const origin = originOf(args.appUrl);
  const key = deriveAccessSecret(args.accessKey, args.slug, "platform-sso");
  const { ticket } = mintSsoTicket(key, {
    audience: origin,
    subject: args.accountId,
    ...(args.email ? { email: args.email } : {}),
  });
  const query = new URLSearchParams({ ticket, next: landingPath(origin, args.redirectTo) });
  return `${origin}${RUNTIME_SSO_PATH}?${query}`;
}
