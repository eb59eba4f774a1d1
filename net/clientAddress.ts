/**
 * Who is on the other end of an HTTP request, for rate limits and logs: the connection's peer,
 * unless that peer is one of our own proxies, in which case the address the proxies saw.
 *
 * `X-Forwarded-For` is a list each proxy appends to (client, proxy1, proxy2, …); anything left
 * of what our proxies appended is whatever the client sent, so it is read right to left: start
 * at the peer, and while the current hop is a trusted proxy, step to the address it recorded.
 * The first untrusted address is the client. Without trusted proxies the header is ignored
 * entirely: a client could otherwise pick any address, and with it a fresh rate-limit bucket, on
 * every request. One module for every HTTP service (portal, webhooks), configured by one list
 * (`MINDROOM_TRUSTED_PROXIES`: addresses and CIDR ranges).
 */
import { BlockList, isIP } from "node:net";

export class TrustedProxiesError extends Error {
  override readonly name = "TrustedProxiesError";
}

/** The configured proxies: exact addresses and CIDR ranges, IPv4 and IPv6. */
export class TrustedProxies {
  readonly #list = new BlockList();
  readonly entries: readonly string[];

  constructor(entries: readonly string[]) {
    for (const entry of entries) {
      const [address = "", prefix, extra] = entry.split("/");
      const family = isIP(address);
      const bits = prefix === undefined ? undefined : Number(prefix);
      const max = family === 6 ? 128 : 32;
      if (
        family === 0 ||
        extra !== undefined ||
        (bits !== undefined &&
          !(Number.isInteger(bits) && bits >= 0 && bits <= max && /^\d+$/.test(prefix ?? "")))
      )
        throw new TrustedProxiesError(
          `"${entry}" is not an IP address or CIDR range (like 10.0.0.1, 10.0.0.0/8 or fd00::/8)`,
        );
      const type = family === 6 ? "ipv6" : "ipv4";
      if (bits === undefined) this.#list.addAddress(address, type);
      else this.#list.addSubnet(address, bits, type);
    }
    this.entries = [...entries];
  }

  static none(): TrustedProxies {
    return new TrustedProxies([]);
  }

  get empty(): boolean {
    return this.entries.length === 0;
  }

  has(address: string): boolean {
    const family = isIP(address);
    if (family === 0) return false;
    return this.#list.check(address, family === 6 ? "ipv6" : "ipv4");
  }
}

/** `MINDROOM_TRUSTED_PROXIES`: comma- or space-separated addresses and CIDR ranges; unset or empty is none. */
export function parseTrustedProxies(raw: string | undefined): TrustedProxies {
  const entries = (raw ?? "").split(/[\s,]+/).filter(Boolean);
  try {
    return new TrustedProxies(entries);
  } catch (error) {
    throw new TrustedProxiesError(`MINDROOM_TRUSTED_PROXIES: ${(error as Error).message}`);
  }
}

/**
 * An address as a plain IP: IPv4-mapped IPv6 (`::ffff:1.2.3.4`) as IPv4, an IPv6 zone dropped,
 * brackets and a port (`[2001:db8::1]:443`, `1.2.3.4:5678`, as some proxies write them)
 * removed. Undefined when it is not an address.
 */
export function normalizeAddress(raw: string | undefined): string | undefined {
  if (!raw) return undefined;
  let value = raw.trim();
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(value);
  if (bracketed?.[1]) value = bracketed[1];
  else if (/^[\d.]+:\d+$/.test(value)) value = value.slice(0, value.lastIndexOf(":"));
  value = value.replace(/%.*$/, "");
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(value);
  if (mapped?.[1]) value = mapped[1];
  return isIP(value) === 0 ? undefined : value.toLowerCase();
}

/**
 * The client's address: `peer` (the socket's remote address) unless it is a trusted proxy, then
 * `X-Forwarded-For` right to left, skipping trusted hops. When every hop is trusted, the leftmost
 * (the request started inside our own network); when a trusted proxy wrote something that is not
 * an address, that proxy.
 */
export function clientAddress(
  peer: string | undefined,
  forwardedFor: string | null | undefined,
  trusted: TrustedProxies,
): string {
  let current = normalizeAddress(peer) ?? "unknown";
  if (trusted.empty || !trusted.has(current)) return current;
  const hops = (forwardedFor ?? "")
    .split(",")
    .map((h) => h.trim())
    .filter(Boolean);
  while (trusted.has(current)) {
    const hop = hops.pop();
    if (hop === undefined) return current;
    const address = normalizeAddress(hop);
    if (!address) return current;
    current = address;
  }
  return current;
}

/**
 * What a per-address limit counts: an IPv4 address as is, an IPv6 address by its /64 (one
 * customer's network: anyone with a /64 can use as many of its addresses as they like).
 */
export function addressBucket(address: string): string {
  if (isIP(address) !== 6) return address;
  const groups = expandIPv6(address);
  return `${groups.slice(0, 4).join(":")}::/64`;
}

function expandIPv6(address: string): string[] {
  const [head = "", tail] = address.split("::");
  const left = head ? head.split(":") : [];
  const right = tail ? tail.split(":") : [];
  // An embedded IPv4 tail (::ffff:1.2.3.4 not mapped above, 64:ff9b::1.2.3.4) counts as two groups.
  const last = right.length > 0 ? right : left;
  const v4 = last.at(-1)?.includes(".") ? last.pop() : undefined;
  if (v4) {
    const [a = 0, b = 0, c = 0, d = 0] = v4.split(".").map(Number);
    last.push(((a << 8) | b).toString(16), ((c << 8) | d).toString(16));
  }
  const missing = tail === undefined ? 0 : 8 - left.length - right.length;
  return [...left, ...Array<string>(missing).fill("0"), ...right].map((g) => g.replace(/^0+(?=.)/, ""));
}
