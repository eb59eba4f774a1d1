import { describe, expect, it } from "vitest";
import { findHost, hostPort, type KnownHost } from "./hostPool.ts";

const host: KnownHost = {
  url: "ssh://root@127.0.0.1:2222",
  address: "127.0.0.1",
  memoryMb: 8192,
  cpus: 4,
  proxied: false,
};

describe("host pool", () => {
  it("identifies a machine by host and port, not by the SSH user", () => {
    expect(hostPort("ssh://root@127.0.0.1:2222")).toBe("127.0.0.1:2222");
    expect(hostPort("ssh://deploy@[2001:db8::1]:22")).toBe("2001:db8::1:22");
    expect(hostPort("https://example.com")).toBeUndefined();
    expect(findHost([host], "ssh://admin@127.0.0.1:2222")).toBe(host);
    expect(findHost([host], "ssh://root@127.0.0.1:22")).toBeUndefined();
  });
});
