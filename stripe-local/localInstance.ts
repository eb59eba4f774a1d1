/**
 * The local Stripe API of `./platform start`: kept in `<MINDROOM_DATA_DIR>/stripe/`
 * (state.json, and the port, so STRIPE_API_BASE and every URL handed out stay
 * the same across restarts), with the platform's webhook registered.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type StripeLocal, startStripeLocal, type WebhookTarget } from "./server.ts";

export async function startLocalStripeInstance(options: {
  dataDir: string;
  webhooks?: WebhookTarget[];
}): Promise<StripeLocal> {
  const dir = join(options.dataDir, "stripe");
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const portFile = join(dir, "port");
  const saved = existsSync(portFile) ? Number(readFileSync(portFile, "utf8")) : undefined;
  const common = { stateFile: join(dir, "state.json"), webhooks: options.webhooks ?? [] };
  let server: StripeLocal;
  try {
    server = await startStripeLocal({ ...common, ...(saved ? { port: saved } : {}) });
  } catch (error) {
    // The saved port is taken by something else: take another and remember it.
    if ((error as NodeJS.ErrnoException).code !== "EADDRINUSE") throw error;
    server = await startStripeLocal(common);
  }
  writeFileSync(portFile, String(server.port));
  return server;
}

/** The running (or last) local instance's URL for this data folder, for CLIs run beside `./platform start`. */
export function localStripeUrl(dataDir: string): string | undefined {
  const portFile = join(dataDir, "stripe", "port");
  return existsSync(portFile) ? `http://127.0.0.1:${readFileSync(portFile, "utf8").trim()}` : undefined;
}
