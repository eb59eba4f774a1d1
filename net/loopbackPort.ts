/**
 * Ports on 127.0.0.1 for the local parts the platform starts (Postgres, the object
 * store, …): a free one, or the one a data folder kept from an earlier run, so
 * addresses recorded elsewhere (stacks, webhook endpoints) stay valid.
 */
import { existsSync, readFileSync } from "node:fs";
import { createServer } from "node:net";

/** Whether nothing listens on `port` on 127.0.0.1 right now. */
export function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen({ port, host: "127.0.0.1", exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** A port on 127.0.0.1 that was free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen({ port: 0, host: "127.0.0.1", exclusive: true }, () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error("no port"))));
    });
  });
}

/** The port kept in `file` when it is still free, else a free one. */
export async function keptOrFreePort(file: string): Promise<number> {
  const kept = existsSync(file) ? Number(readFileSync(file, "utf8").trim()) : Number.NaN;
  if (Number.isInteger(kept) && kept > 0 && kept < 65_536 && (await portIsFree(kept))) return kept;
  return freePort();
}
