/**
 * The built portal's server functions, found the way the browser finds them: by reading the client
 * bundle (`n(\`<id>\`)` references, followed by the query key or action name when there is one; the
 * id's hash is SolidStart's xxHash32 of the file path in hex, unpadded: 1 to 8 digits), and
 * called the way the browser calls them (POST /_server with X-Server-Id, from the portal's own
 * origin), so tests can reach every one directly, with or without a session and with forged
 * arguments. `serverFunctionUrl` builds the GET form SolidStart also accepts
 * (`/_server?id=…&args=…`), which a link or an image on another site could use.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { toCrossJSONStream } from "seroval";
import { FormDataPlugin } from "seroval-plugins/web";

export interface ServerFunction {
  readonly id: string;
  /** The query key or action name. */
  readonly name: string | undefined;
}

/** The signed-out forms (src/lib/session.ts): they act without a session. */
export const SESSION_ACTIONS = ["signIn", "signUp", "sendMagicLink", "requestPasswordReset", "signOut"];

export function serverFunctions(buildDir: string): ServerFunction[] {
  const dir = join(buildDir, "public", "_build", "assets");
  const found = new Map<string, string | undefined>();
  for (const file of readdirSync(dir).filter((f) => f.endsWith(".js"))) {
    const text = readFileSync(join(dir, file), "utf8");
    for (const m of text.matchAll(/\(`([0-9a-f]{1,8}-\d+)`\)(?:,`(\w+)`)?/g)) {
      if (m[1] && !found.get(m[1])) found.set(m[1], m[2]);
    }
  }
  return [...found].map(([id, name]) => ({ id, name }));
}

export interface CallResult {
  readonly status: number;
  readonly location: string | null;
  readonly headers: Headers;
  readonly body: string;
}

/** One call as the browser makes it: no argument, a FormData, or a string. */
export async function callServerFunction(
  baseUrl: string,
  id: string,
  cookie: string | undefined,
  arg?: FormData | string,
  extraHeaders: Record<string, string> = {},
): Promise<CallResult> {
  const headers: Record<string, string> = {
    "X-Server-Id": id,
    "X-Server-Instance": "server-fn:0",
    Origin: new URL(baseUrl).origin,
    ...extraHeaders,
  };
  if (cookie) headers.cookie = cookie;
  let body: BodyInit | undefined;
  if (arg instanceof FormData) {
    headers["X-Start-Type"] = "2";
    body = arg;
  } else if (typeof arg === "string") {
    headers["X-Start-Type"] = "1";
    headers["Content-Type"] = "text/plain";
    body = arg;
  }
  const answer = await fetch(`${baseUrl}/_server`, { method: "POST", headers, body, redirect: "manual" });
  return {
    status: answer.status,
    location: answer.headers.get("location"),
    headers: answer.headers,
    body: await answer.text(),
  };
}

/**
 * Arguments in SolidStart's wire format for `?args=`: seroval's cross-JSON nodes, each framed as
 * `;0x<byte length, 8 hex digits>;<json>` (what @solidjs/start's serializeToJSONString writes).
 */
export function serializedArguments(args: readonly unknown[]): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = "";
    toCrossJSONStream(args, {
      plugins: [FormDataPlugin],
      onParse(node) {
        const json = JSON.stringify(node);
        out += `;0x${Buffer.byteLength(json).toString(16).padStart(8, "0")};${json}`;
      },
      onDone: () => resolve(out),
      onError: reject,
    });
  });
}

/** `GET /_server?id=…[&args=…]`: the URL a cross-site link, image or GET form can point at. */
export async function serverFunctionUrl(baseUrl: string, id: string, form?: FormData): Promise<string> {
  const url = new URL("/_server", baseUrl);
  url.searchParams.set("id", id);
  if (form) url.searchParams.set("args", await serializedArguments([form]));
  return url.toString();
}
