/**
 * The internal listener every platform process serves its Prometheus metrics on: apart from the
 * public port (the one Stripe or customers call), so scrapes need no route through the edge and
 * the public side exposes nothing about the fleet. `GET /metrics` renders the given registries
 * (merged), `GET /healthz` answers while the process lives; anything else is 404.
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
): Promise<MetricsServer> {
  const server = createServer((request, response) => {
    const path = (request.url ?? "/").split("?")[0];
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
