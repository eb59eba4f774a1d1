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

/** `preferred` when it is free right now, else a free port. */
export async function preferredOrFreePort(preferred: number): Promise<number> {
  return Number.isInteger(preferred) && preferred > 0 && preferred < 65_536 && (await portIsFree(preferred))
    ? preferred
    : freePort();
}

/** The port kept in `file` when it is still free, else a free one. */
export async function keptOrFreePort(file: string): Promise<number> {
  return preferredOrFreePort(existsSync(file) ? Number(readFileSync(file, "utf8").trim()) : Number.NaN);
}

/**
 * Starts a server on ports chosen free a moment before it binds them. Another process may take
 * one in between (parts of several platforms starting at once); when `lostPort` says the server
 * failed for that, it is started once more, on ports chosen again.
 */
export async function startOnChosenPorts<T>(
  start: (attempt: number) => Promise<T>,
  lostPort: (error: unknown) => boolean,
): Promise<T> {
  try {
    return await start(0);
  } catch (error) {
    if (!lostPort(error)) throw error;
    return start(1);
  }
}

/** Whether a server's output says it could not bind its address. */
export const ADDRESS_IN_USE = /address already in use/i;
