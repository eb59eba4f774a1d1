/**
 * The built portal's server functions, found the way the browser finds them: by reading the client
 * bundle (`n(\`<id>\`)` references, followed by the query key or action name when there is one; the
 * id's hash is SolidStart's xxHash32 of the file path in hex, unpadded: 1 to 8 digits), and
 * called the way the browser calls them (POST /_server with X-Server-Id), so tests can reach every
 * one directly, with or without a session and with forged arguments.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

export interface ServerFunction {
  readonly id: string;
  /** The query key or action name; undefined for unnamed actions (the sign-in forms). */
  readonly name: string | undefined;
}

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
  readonly body: string;
}

/** One call as the browser makes it: no argument, a FormData, or a string. */
export async function callServerFunction(
  baseUrl: string,
  id: string,
  cookie: string | undefined,
  arg?: FormData | string,
): Promise<CallResult> {
  const headers: Record<string, string> = { "X-Server-Id": id, "X-Server-Instance": "server-fn:0" };
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
  return { status: answer.status, location: answer.headers.get("location"), body: await answer.text() };
}
