/**
 * A web site on another origin than the portal, for cross-site request forgery tests: it serves
 * pages that make a visitor's browser reach for the portal the ways a hostile page can without
 * the visitor's help (auto-submitted forms, images, fetches) or with one click (links). Pages are
 * registered by the test and served from `http://<host>:<port>/p/<n>`; give `host` as
 * `127.0.0.1` for a cross-site attacker when the portal is `localhost`, or `localhost` for a
 * same-site one on another port (like a customer's instance on a sibling subdomain), to which
 * browsers send even `SameSite=Strict` cookies.
 */
import { once } from "node:events";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

export type Fields = Readonly<Record<string, string>>;

export type Attempt =
  /** A link the visitor clicks (a top-level GET navigation: Lax cookies go along). */
  | { readonly kind: "link"; readonly target: string }
  /** A form that submits itself on load. */
  | {
      readonly kind: "form";
      readonly method: "get" | "post";
      readonly enctype: "application/x-www-form-urlencoded" | "multipart/form-data";
      readonly target: string;
      readonly fields: Fields;
    };

/** Sub-resource requests fired all at once: images, and fetches with the visitor's cookies. */
export interface Burst {
  readonly get: readonly string[];
  readonly post: readonly { readonly target: string; readonly fields: Fields; readonly serverId?: string }[];
}

export interface AttackerSite {
  readonly origin: string;
  /** The URL of a page that makes this attempt. */
  page(attempt: Attempt): string;
  /** The URL of a page that fires the burst and sets its title to "done" when all settled. */
  burst(burst: Burst): string;
  stop(): Promise<void>;
}

function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function html(body: string): string {
  return `<!doctype html><html><head><meta charset="utf-8"><title>prize</title></head><body>${body}</body></html>`;
}

function attemptPage(attempt: Attempt): string {
  if (attempt.kind === "link")
    return html(`<a id="go" href="${escapeHtml(attempt.target)}">You won a prize</a>`);
  const inputs = Object.entries(attempt.fields)
    .map(([name, value]) => `<input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(value)}">`)
    .join("");
  return html(
    `<form id="f" method="${attempt.method}" enctype="${attempt.enctype}" action="${escapeHtml(attempt.target)}">${inputs}</form>` +
      `<script>document.getElementById("f").submit()</script>`,
  );
}

function burstPage(burst: Burst): string {
  // Every attempt settles (loaded, refused or blocked) before the title says so.
  const script = `
    const gets = ${JSON.stringify(burst.get)};
    const posts = ${JSON.stringify(burst.post)};
    const form = (fields) => { const f = new FormData(); for (const [k, v] of Object.entries(fields)) f.append(k, v); return f; };
    const settle = (p) => p.then(() => undefined, () => undefined);
    const image = (src) => new Promise((done) => { const i = new Image(); i.onload = i.onerror = done; i.src = src; });
    const tries = [];
    for (const url of gets) {
      tries.push(image(url));
      tries.push(settle(fetch(url, { mode: "no-cors", credentials: "include" })));
    }
    for (const { target, fields, serverId } of posts) {
      // Simple requests reach the server without asking; a custom header makes the browser ask first (CORS preflight).
      tries.push(settle(fetch(target, { method: "POST", mode: "no-cors", credentials: "include", body: form(fields) })));
      tries.push(settle(fetch(target, { method: "POST", mode: "no-cors", credentials: "include", body: new URLSearchParams(fields) })));
      if (serverId) tries.push(settle(fetch(target, { method: "POST", credentials: "include", headers: { "X-Server-Id": serverId, "X-Server-Instance": "server-fn:0" }, body: form(fields) })));
    }
    Promise.all(tries).then(() => { document.title = "done"; });`;
  return html(`<script>${script}</script>`);
}

export async function startAttackerSite(host: string): Promise<AttackerSite> {
  const pages: string[] = [];
  const server = createServer((request, response) => {
    const index = Number(/^\/p\/(\d+)$/.exec(request.url ?? "")?.[1] ?? -1);
    const body = pages[index];
    if (body === undefined) {
      response.writeHead(404).end();
      return;
    }
    response.writeHead(200, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" });
    response.end(body);
  });
  server.listen(0, host);
  await once(server, "listening");
  const origin = `http://${host}:${(server.address() as AddressInfo).port}`;
  const register = (body: string) => `${origin}/p/${pages.push(body) - 1}`;
  return {
    origin,
    page: (attempt) => register(attemptPage(attempt)),
    burst: (burst) => register(burstPage(burst)),
    stop: async () => {
      server.closeAllConnections();
      server.close();
      await once(server, "close");
    },
  };
}
