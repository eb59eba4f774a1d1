/**
 * The HTTP front of the local auth server, in the place Supabase's Kong has:
 * everything under `/auth/v1/` goes to the identity server's public API (which
 * is built to face browsers), and `/auth/v1/admin/…` goes to its admin API only
 * for requests carrying the service_role key (`apikey` header or Bearer), as
 * Kong's ACL allows only that key there. Anything else is 404.
 */
import { once } from "node:events";
import { createServer, type IncomingMessage, request, type Server, type ServerResponse } from "node:http";
import type { ApiKeyRole } from "./keys.ts";

export const AUTH_PREFIX = "/auth/v1";

export interface GatewayOptions {
  readonly port?: number;
  /** `http://127.0.0.1:<port>` of the identity server's public and admin APIs. */
  readonly publicOrigin: string;
  readonly adminOrigin: string;
  /** The role a presented key carries, or undefined for an invalid key. */
  readonly roleOfKey: (key: string) => Promise<ApiKeyRole | undefined>;
}

export interface Gateway {
  readonly port: number;
  /** `http://127.0.0.1:<port>`: what `SUPABASE_URL` is locally. */
  readonly url: string;
  close(): Promise<void>;
}

/** Headers that describe one connection, not the message (RFC 9110 §7.6.1). */
const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-authenticate",
  "proxy-authorization",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
  "host",
]);

function presentedKey(req: IncomingMessage): string | undefined {
  const apikey = req.headers.apikey;
  if (typeof apikey === "string" && apikey) return apikey;
  const bearer = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? "")?.[1];
  return bearer;
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}

function forward(req: IncomingMessage, res: ServerResponse, origin: string, path: string): void {
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(req.headers))
    if (value !== undefined && !HOP_BY_HOP.has(name) && name !== "apikey") headers[name] = value;
  const target = new URL(path, origin);
  headers["x-forwarded-host"] = req.headers.host ?? "";
  headers["x-forwarded-proto"] = "http";
  const upstream = request(target, { method: req.method, headers }, (answer) => {
    const out: Record<string, string | string[]> = {};
    for (const [name, value] of Object.entries(answer.headers))
      if (value !== undefined && !HOP_BY_HOP.has(name)) out[name] = value;
    res.writeHead(answer.statusCode ?? 502, out);
    answer.pipe(res);
  });
  upstream.on("error", (error) => {
    if (res.headersSent) res.destroy(error);
    else
      sendJson(res, 502, {
        error: { code: "auth_unavailable", message: "the identity server is not answering" },
      });
  });
  req.pipe(upstream);
}

export async function startGateway(options: GatewayOptions): Promise<Gateway> {
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = req.url ?? "/";
    if (url !== AUTH_PREFIX && !url.startsWith(`${AUTH_PREFIX}/`) && !url.startsWith(`${AUTH_PREFIX}?`))
      return sendJson(res, 404, {
        error: { code: "not_found", message: `only ${AUTH_PREFIX}/ is served here` },
      });
    const rest = url.slice(AUTH_PREFIX.length) || "/";
    const path = rest.startsWith("/") ? rest : `/${rest}`;
    if (path === "/admin" || path.startsWith("/admin/") || path.startsWith("/admin?")) {
      const key = presentedKey(req);
      const role = key ? await options.roleOfKey(key) : undefined;
      if (role !== "service_role")
        return sendJson(res, 401, {
          error: { code: "service_role_required", message: "the admin API needs the service_role key" },
        });
      return forward(req, res, options.adminOrigin, path);
    }
    forward(req, res, options.publicOrigin, path);
  };
  const server: Server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent)
        sendJson(res, 500, { error: { code: "gateway_error", message: "gateway failure" } });
    });
  });
  server.listen({ host: "127.0.0.1", port: options.port ?? 0 });
  await once(server, "listening");
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
