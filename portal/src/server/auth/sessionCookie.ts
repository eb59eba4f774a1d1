/**
 * What the session cookie holds with Supabase Auth: the access token (a JWT, ~1 h) and the refresh
 * token that renews it, as `<access token>~<refresh token>`. Both are base64url/dot strings, so
 * `~` never occurs inside them and the value needs no further escaping. The cookie is httpOnly and
 * never read by the browser; a value that does not have this exact shape is treated as no session.
 */

export interface SessionTokens {
  readonly accessToken: string;
  readonly refreshToken: string;
}

/** A JWT: three base64url segments. */
const ACCESS_TOKEN = /^[\w-]+\.[\w-]+\.[\w-]+$/;
/** GoTrue refresh tokens are short random strings; allow base64url and dots, nothing else. */
const REFRESH_TOKEN = /^[\w.-]{1,512}$/;

export class SessionCookieError extends Error {
  override readonly name = "SessionCookieError";
}

export function encodeSessionCookie(tokens: SessionTokens): string {
  if (!ACCESS_TOKEN.test(tokens.accessToken)) throw new SessionCookieError("the access token is not a JWT");
  if (!REFRESH_TOKEN.test(tokens.refreshToken))
    throw new SessionCookieError("the refresh token has unexpected characters");
  return `${tokens.accessToken}~${tokens.refreshToken}`;
}

/** The tokens in a cookie value, or undefined when it is not one this module wrote. */
export function decodeSessionCookie(value: string): SessionTokens | undefined {
  const parts = value.split("~");
  if (parts.length !== 2) return undefined;
  const [accessToken = "", refreshToken = ""] = parts;
  if (!ACCESS_TOKEN.test(accessToken) || !REFRESH_TOKEN.test(refreshToken)) return undefined;
  return { accessToken, refreshToken };
}
