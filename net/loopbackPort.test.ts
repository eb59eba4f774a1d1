/**
 * Ports on 127.0.0.1: a preferred port when it is free, another when it is taken, and a
 * server started once more when it lost a chosen port before binding it.
 */
import { once } from "node:events";
import { createServer } from "node:net";
import { describe, expect, it } from "vitest";
import {
  ADDRESS_IN_USE,
  CHOSEN_PORTS,
  freePort,
  preferredOrFreePort,
  startOnChosenPorts,
} from "./loopbackPort.ts";

describe("freePort", () => {
  it("chooses free ports below the kernel's ephemeral range, where no connection takes them", async () => {
    const ports = await Promise.all(Array.from({ length: 20 }, () => freePort()));
    for (const port of ports) {
      expect(port).toBeGreaterThanOrEqual(CHOSEN_PORTS.from);
      expect(port).toBeLessThanOrEqual(CHOSEN_PORTS.to);
    }
    // Each was free: a server binds it.
    const server = createServer().listen({ host: "127.0.0.1", port: ports[0] });
    await once(server, "listening");
    server.close();
  });
});

describe("preferredOrFreePort", () => {
  it("gives the preferred port when it is free, another one when something listens on it", async () => {
    const port = await freePort();
    expect(await preferredOrFreePort(port)).toBe(port);
    const holder = createServer().listen({ host: "127.0.0.1", port });
    await once(holder, "listening");
    try {
      const other = await preferredOrFreePort(port);
      expect(other).not.toBe(port);
      expect(other).toBeGreaterThan(0);
    } finally {
      holder.close();
    }
  });

  it("gives a free port for no preference (0, not a number)", async () => {
    expect(await preferredOrFreePort(0)).toBeGreaterThan(0);
    expect(await preferredOrFreePort(Number.NaN)).toBeGreaterThan(0);
  });
});

describe("startOnChosenPorts", () => {
  const lost = (error: unknown) => error instanceof Error && ADDRESS_IN_USE.test(error.message);

  it("starts once more when the first start lost a port, and not again", async () => {
    const attempts: number[] = [];
    const started = await startOnChosenPorts(async (attempt) => {
      attempts.push(attempt);
      if (attempt === 0) throw new Error("listen tcp 127.0.0.1:4000: bind: address already in use");
      return "up";
    }, lost);
    expect([started, attempts]).toEqual(["up", [0, 1]]);

    const again: number[] = [];
    await expect(
      startOnChosenPorts(async (attempt) => {
        again.push(attempt);
        throw new Error("bind: address already in use");
      }, lost),
    ).rejects.toThrow(/address already in use/);
    expect(again).toEqual([0, 1]);
  });

  it("does not retry any other failure", async () => {
    const attempts: number[] = [];
    await expect(
      startOnChosenPorts(async (attempt) => {
        attempts.push(attempt);
        throw new Error("the binary is missing");
      }, lost),
    ).rejects.toThrow(/missing/);
    expect(attempts).toEqual([0]);
  });
});
