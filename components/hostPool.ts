/**
 * The platform's pool of Dokku hosts: what each host offers tenants, and which
 * pool host a tenant's `ssh://…` URL names. Settings parse it (`DOKKU_HOSTS`),
 * placement fills it, the policy pack checks tenants against it.
 */

/** A Dokku host tenants may be placed on. */
export interface KnownHost {
  /** `ssh://user@host:port`, as in `DOKKU_HOSTS`; a tenant is on this host when its spec's host and port match. */
  readonly url: string;
  /** The public address DNS records point at. */
  readonly address: string;
  /** Memory the host can give tenants, MB. */
  readonly memoryMb: number;
  /** CPU cores the host can give tenants. */
  readonly cpus: number;
  /** Whether DNS records for this host go through Cloudflare's proxy (true) or point at it directly (false). */
  readonly proxied: boolean;
}

const SSH_URL = /^ssh:\/\/[^@]+@(\[[0-9a-f:]+\]|[^@:/]+):([0-9]{1,5})$/;

/** `host:port` of an `ssh://user@host:port` URL (the user does not identify the machine). */
export function hostPort(url: string): string | undefined {
  const match = SSH_URL.exec(url);
  return match ? `${match[1]?.replace(/^\[|\]$/g, "")}:${match[2]}` : undefined;
}

/** The known host a tenant's `ssh://…` URL names, if any. */
export function findHost(hosts: readonly KnownHost[], url: string): KnownHost | undefined {
  const target = hostPort(url);
  return target === undefined ? undefined : hosts.find((h) => hostPort(h.url) === target);
}
