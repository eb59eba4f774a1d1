"""The MindRoom runtime's platform sign-in, for tests on machines where the runtime cannot run.

The runtime (PyPI `mindroom`, mindroom/api/auth.py in the release named by MINDROOM_VERSION in
toolchain/versions.env) needs Python >= 3.12; this serves the part of it the platform's single
sign-on must satisfy, from the same environment variables and with the same library (PyJWT):

- GET /api/auth/platform-sso?ticket=...&next=...: checks the ticket (HS256 with
  MINDROOM_PLATFORM_SSO_SECRET; audience the origin of MINDROOM_PUBLIC_URL; `typ`, `aud`, `sub`,
  `iat`, `exp` and `jti` required, 10 s of leeway; `typ` mindroom_platform_sso_ticket; `sub` a
  non-empty string; `email` absent or a string), accepts each `jti` once, answers 403 unless `sub`
  is ACCOUNT_ID, then sets the host-only `__Host-mindroom_platform_session` cookie (1 h) and
  redirects to `next` (an in-app path only).
- any other GET: 200 with the signed-in account for a valid session cookie, otherwise a redirect
  to MINDROOM_PLATFORM_SSO_URL?redirect_to=<this URL on the public origin>.

Platform sign-in is on only when SUPABASE_URL, SUPABASE_ANON_KEY and MINDROOM_PLATFORM_SSO_SECRET
are set (404 otherwise), as in the runtime. Prints `{"port": N}` once listening.
"""

import json
import os
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, quote, unquote, urlsplit

import jwt

TICKET_TYPE = "mindroom_platform_sso_ticket"
SESSION_TYPE = "mindroom_platform_session"
SESSION_COOKIE = "__Host-mindroom_platform_session"
SESSION_SECONDS = 3600
LEEWAY = 10
DEFAULT_PORTS = {"http": 80, "https": 443}


def env(name):
    value = (os.environ.get(name) or "").strip()
    return value or None


def origin_of(url):
    parts = urlsplit(url or "")
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
        return None
    port = "" if parts.port in (None, DEFAULT_PORTS[parts.scheme]) else f":{parts.port}"
    return f"{parts.scheme}://{parts.hostname}{port}"


PUBLIC_URL = env("MINDROOM_PUBLIC_URL")
AUDIENCE = origin_of(PUBLIC_URL)
SECRET = env("MINDROOM_PLATFORM_SSO_SECRET")
ACCOUNT_ID = env("ACCOUNT_ID")
SSO_URL = env("MINDROOM_PLATFORM_SSO_URL")
PLATFORM_MODE = bool(env("SUPABASE_URL") and env("SUPABASE_ANON_KEY") and SECRET)
used_ticket_ids = {}


class Refused(Exception):
    def __init__(self, status, detail):
        super().__init__(detail)
        self.status = status
        self.detail = detail


def verified(token, token_type, required=()):
    if SECRET is None or AUDIENCE is None:
        raise Refused(401, "Missing or invalid credentials")
    try:
        claims = jwt.decode(
            token,
            SECRET,
            algorithms=["HS256"],
            audience=AUDIENCE,
            leeway=LEEWAY,
            options={"require": ["typ", "aud", "sub", "iat", "exp", *required]},
        )
    except jwt.PyJWTError as error:
        raise Refused(401, "Invalid platform login") from error
    email = claims.get("email")
    subject = claims["sub"]
    if claims["typ"] != token_type or not isinstance(subject, str) or not subject:
        raise Refused(401, "Invalid platform login")
    if email is not None and not isinstance(email, str):
        raise Refused(401, "Invalid platform login")
    return claims


def consume(ticket_id, expires_at):
    now = time.time()
    for known, until in list(used_ticket_ids.items()):
        if until + LEEWAY < now:
            del used_ticket_ids[known]
    if not isinstance(ticket_id, str) or not ticket_id or ticket_id in used_ticket_ids:
        raise Refused(401, "Invalid platform login")
    used_ticket_ids[ticket_id] = expires_at


def in_app_path(target):
    if not target or not target.startswith("/"):
        return "/"
    candidate = target
    for _ in range(5):
        if any(c < " " for c in candidate) or candidate.replace("\\", "/").startswith("//"):
            return "/"
        decoded = unquote(candidate)
        if decoded == candidate:
            return target
        candidate = decoded
    return "/"


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def answer(self, status, body, headers=()):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        url = urlsplit(self.path)
        try:
            if url.path == "/api/auth/platform-sso":
                self.exchange(parse_qs(url.query))
            else:
                self.page(url)
        except Refused as refused:
            self.answer(refused.status, {"detail": refused.detail})

    def exchange(self, query):
        if not PLATFORM_MODE:
            raise Refused(404, "Platform login is not enabled")
        ticket = (query.get("ticket") or [""])[0]
        claims = verified(ticket, TICKET_TYPE, required=("jti",))
        consume(claims["jti"], int(claims["exp"]))
        if ACCOUNT_ID and claims["sub"] != ACCOUNT_ID:
            raise Refused(403, "Forbidden")
        now = int(time.time())
        session = jwt.encode(
            {
                "typ": SESSION_TYPE,
                "aud": claims["aud"],
                "sub": claims["sub"],
                "email": claims.get("email"),
                "iat": now,
                "exp": now + SESSION_SECONDS,
            },
            SECRET,
            algorithm="HS256",
        )
        cookie = f"{SESSION_COOKIE}={session}; Max-Age={SESSION_SECONDS}; Path=/; Secure; HttpOnly; SameSite=lax"
        target = in_app_path((query.get("next") or ["/"])[0])
        self.send_response(307)
        self.send_header("location", target)
        self.send_header("set-cookie", cookie)
        self.send_header("content-length", "0")
        self.end_headers()

    def page(self, url):
        cookies = {}
        for part in (self.headers.get("cookie") or "").split(";"):
            name, _, value = part.strip().partition("=")
            cookies[name] = value
        token = cookies.get(SESSION_COOKIE)
        if token and PLATFORM_MODE:
            try:
                claims = verified(token, SESSION_TYPE)
                if not ACCOUNT_ID or claims["sub"] == ACCOUNT_ID:
                    self.answer(200, {"dashboard": True, "account": claims["sub"], "email": claims.get("email")})
                    return
            except Refused:
                pass
        if PLATFORM_MODE and SSO_URL:
            here = f"{AUDIENCE}{url.path}" + (f"?{url.query}" if url.query else "")
            self.send_response(302)
            self.send_header("location", f"{SSO_URL}?redirect_to={quote(here, safe='')}")
            self.send_header("content-length", "0")
            self.end_headers()
            return
        raise Refused(401, "Missing or invalid credentials")


def main():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print(json.dumps({"port": server.server_address[1]}), flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())
