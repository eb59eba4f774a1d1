import { describe, expect, it } from "vitest";
import {
  addressBucket,
  clientAddress,
  normalizeAddress,
  parseTrustedProxies,
  TrustedProxies,
  TrustedProxiesError,
} from "./clientAddress.ts";

const proxies = parseTrustedProxies("10.0.0.0/8, 192.168.1.7 fd00::/8");

describe("clientAddress", () => {
  it("ignores X-Forwarded-For entirely without trusted proxies (the client writes it)", () => {
    const none = TrustedProxies.none();
    expect(clientAddress("203.0.113.9", "1.1.1.1", none)).toBe("203.0.113.9");
    expect(clientAddress("10.0.0.1", "1.1.1.1, 2.2.2.2", none)).toBe("10.0.0.1");
  });

  it("ignores it from a peer that is not a trusted proxy", () => {
    expect(clientAddress("203.0.113.9", "198.51.100.1", proxies)).toBe("203.0.113.9");
  });

  it("takes the address the trusted proxy recorded, never what the client put before it", () => {
    expect(clientAddress("10.1.2.3", "198.51.100.1", proxies)).toBe("198.51.100.1");
    // The client sent `X-Forwarded-For: 1.1.1.1`; the proxy appended the real address.
    expect(clientAddress("10.1.2.3", "1.1.1.1, 198.51.100.1", proxies)).toBe("198.51.100.1");
    // Two headers are joined in order by Node and by fetch's Headers.
    expect(clientAddress("10.1.2.3", "1.1.1.1, 2.2.2.2, 198.51.100.1", proxies)).toBe("198.51.100.1");
  });

  it("walks through a chain of trusted proxies right to left", () => {
    expect(clientAddress("10.0.0.5", "1.1.1.1, 198.51.100.1, 192.168.1.7, 10.9.9.9", proxies)).toBe(
      "198.51.100.1",
    );
    expect(clientAddress("fd00::1", "2001:db8::5, fd12::7", proxies)).toBe("2001:db8::5");
  });

  it("answers the leftmost hop when every hop is ours, and the proxy itself when it recorded nothing usable", () => {
    expect(clientAddress("10.0.0.5", "10.3.3.3, 192.168.1.7", proxies)).toBe("10.3.3.3");
    expect(clientAddress("10.0.0.5", undefined, proxies)).toBe("10.0.0.5");
    expect(clientAddress("10.0.0.5", "", proxies)).toBe("10.0.0.5");
    expect(clientAddress("10.0.0.5", "1.1.1.1, not-an-address", proxies)).toBe("10.0.0.5");
  });

  it("reads addresses the way sockets and proxies write them", () => {
    expect(clientAddress("::ffff:10.0.0.5", "[2001:db8::7]:443", proxies)).toBe("2001:db8::7");
    expect(clientAddress("::ffff:10.0.0.5", "198.51.100.1:5678", proxies)).toBe("198.51.100.1");
    expect(clientAddress(undefined, "1.1.1.1", proxies)).toBe("unknown");
  });
});

describe("normalizeAddress", () => {
  it.each([
    ["1.2.3.4", "1.2.3.4"],
    ["::ffff:1.2.3.4", "1.2.3.4"],
    ["2001:DB8::1", "2001:db8::1"],
    ["fe80::1%eth0", "fe80::1"],
    ["[::1]:80", "::1"],
    ["1.2.3.4:80", "1.2.3.4"],
  ])("%s → %s", (raw, expected) => {
    expect(normalizeAddress(raw)).toBe(expected);
  });

  it.each(["", "unknown", "1.2.3", "example.com", "1.2.3.4.5", "::g"])("%j is not an address", (raw) => {
    expect(normalizeAddress(raw)).toBeUndefined();
  });
});

describe("TrustedProxies", () => {
  it("matches exact addresses and ranges of both families", () => {
    expect(proxies.has("10.255.0.1")).toBe(true);
    expect(proxies.has("11.0.0.1")).toBe(false);
    expect(proxies.has("192.168.1.7")).toBe(true);
    expect(proxies.has("192.168.1.8")).toBe(false);
    expect(proxies.has("fdab::1")).toBe(true);
    expect(proxies.has("2001:db8::1")).toBe(false);
    expect(proxies.has("garbage")).toBe(false);
  });

  it.each([
    "10.0.0.0/33",
    "10.0.0.0/8/1",
    "proxy.internal",
    "10.0.0.0/-1",
    "10.0.0.0/x",
    "::/129",
    "10.0.0.0/ 8",
  ])("refuses %j, naming it", (entry) => {
    expect(() => parseTrustedProxies(entry)).toThrow(TrustedProxiesError);
  });

  it("is empty when unset", () => {
    expect(parseTrustedProxies(undefined).empty).toBe(true);
    expect(parseTrustedProxies(" , ").empty).toBe(true);
  });
});

describe("addressBucket", () => {
  it("counts IPv4 by address and IPv6 by its /64", () => {
    expect(addressBucket("198.51.100.1")).toBe("198.51.100.1");
    expect(addressBucket("2001:db8:1:2:aaaa::1")).toBe("2001:db8:1:2::/64");
    expect(addressBucket("2001:db8:1:2:bbbb:cccc:dddd:eeee")).toBe("2001:db8:1:2::/64");
    expect(addressBucket("2001:db8::1")).toBe("2001:db8:0:0::/64");
    expect(addressBucket("::1")).toBe("0:0:0:0::/64");
    expect(addressBucket("64:ff9b::198.51.100.1")).toBe("64:ff9b:0:0::/64");
    expect(addressBucket("unknown")).toBe("unknown");
  });
});
