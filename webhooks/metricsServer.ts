/**
 * The internal listener every platform process serves its Prometheus metrics on: apart from the
 * public port (the one Stripe or customers call), so scrapes need no route through the edge and
 * the public side exposes nothing about the fleet. `GET /metrics` renders the given registries
 * (merged), `GET /healthz` answers while the process lives; a process may add internal `POST`
 * endpoints (the webhook service's `/alerts`, webhooks/alertMail.ts); anything else is 404.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Registry } from "prom-client";

export interface MetricsListenerSettings {
  /** Address to bind (default `127.0.0.1`: reachable by a scraper on the same machine or network namespace). */
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
}

/** An internal POST endpoint: the body as text (at most 1 MiB), answered with JSON. */
export type InternalPost = (body: string) => Promise<{ status: number; body: Record<string, unknown> }>;

const MAX_POST_BYTES = 1024 * 1024;

export interface MetricsServer {
  /** `http://host:port` */
  readonly url: string;
  readonly server: Server;
  close(): Promise<void>;
}

/** One Prometheus exposition of several registries (the webhook service's and the worker's, …). */
export async function renderMetrics(registries: readonly Registry[]): Promise<string> {
  return registries.length === 1
    ? (registries[0] as Registry).metrics()
    : Registry.merge([...registries]).metrics();
}

export async function startMetricsServer(
  registries: readonly Registry[],
  settings: MetricsListenerSettings,
  posts: Readonly<Record<string, InternalPost>> = {},
): Promise<MetricsServer> {
  const server = createServer((request, response) => {
    const path = (request.url ?? "/").split("?")[0] ?? "/";
    const post = Object.hasOwn(posts, path) ? posts[path] : undefined;
    if (post && request.method === "POST") {
      const chunks: Buffer[] = [];
      let size = 0;
      request.on("data", (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_POST_BYTES) {
          response.writeHead(413, { "content-type": "text/plain" }).end("body over 1 MiB\n");
          request.destroy();
        } else chunks.push(chunk);
      });
      request.on("end", () => {
        post(Buffer.concat(chunks).toString("utf8")).then(
          (answer) =>
            response
              .writeHead(answer.status, { "content-type": "application/json" })
              .end(JSON.stringify(answer.body)),
          (error: unknown) =>
            response
              .writeHead(500, { "content-type": "application/json" })
              .end(JSON.stringify({ error: (error as Error).message })),
        );
      });
      return;
    }
    if (post) {
      response.writeHead(405, { allow: "POST" }).end();
      return;
    }
    if (request.method !== "GET" && request.method !== "HEAD") {
      response.writeHead(405, { allow: "GET, HEAD" }).end();
      return;
    }
    if (path === "/healthz") {
      response.writeHead(200, { "content-type": "application/json" }).end('{"status":"ok"}');
      return;
    }
    if (path !== "/metrics") {
      response.writeHead(404, { "content-type": "text/plain" }).end("not found\n");
      return;
    }
    renderMetrics(registries).then(
      (body) => response.writeHead(200, { "content-type": Registry.PROMETHEUS_CONTENT_TYPE }).end(body),
      (error: unknown) =>
        response
          .writeHead(500, { "content-type": "text/plain" })
          .end(`metrics collection failed: ${(error as Error).message}\n`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(settings.port, settings.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  // Scrapes never keep a process alive: it ends when its real work does (the portal's server
  // shuts down by draining the event loop).
  server.unref();
  const address = server.address() as AddressInfo;
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}`,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
