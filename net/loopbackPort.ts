/**
 * Ports on 127.0.0.1 for the local parts the platform starts (Postgres, the object
 * store, …): a free one, or the one a data folder kept from an earlier run, so
 * addresses recorded elsewhere (stacks, webhook endpoints) stay valid.
 */
import { randomInt } from "node:crypto";
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

/**
 * Where chosen ports come from: below Linux's ephemeral range (32768–60999), from which the kernel
 * hands out every outgoing connection's local port and every port-0 listener's. A port chosen
 * there can be taken by any process's next connection before its server binds it (the platform
 * test once lost its portal's port that way); one chosen here only by a server asking for it.
 */
export const CHOSEN_PORTS = { from: 20_000, to: 32_767 } as const;

/** A port on 127.0.0.1 that was free a moment ago, outside the kernel's ephemeral range. */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = randomInt(CHOSEN_PORTS.from, CHOSEN_PORTS.to + 1);
    if (await portIsFree(port)) return port;
  }
  throw new Error(
    `no free port on 127.0.0.1 between ${CHOSEN_PORTS.from} and ${CHOSEN_PORTS.to} after 100 tries`,
  );
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
