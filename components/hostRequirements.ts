/**
 * What a Dokku host must have before tenants are placed on it, in one place:
 * the host stack (components/dokkuHost.ts) installs it, the readiness check
 * (automation/hostReadiness.ts) verifies it, docs/production.md lists it.
 */

export interface RequiredPlugin {
  /** The name the plugin is installed under (its commands' prefix). */
  readonly name: string;
  readonly url: string;
  /** Pinned release (`plugin:install … --committish`). */
  readonly version: string;
}

/** The community plugins tenants use: databases, caches and Let's Encrypt certificates. */
export const REQUIRED_PLUGINS: readonly RequiredPlugin[] = [
  { name: "postgres", url: "https://github.com/dokku/dokku-postgres.git", version: "1.48.0" },
  { name: "redis", url: "https://github.com/dokku/dokku-redis.git", version: "1.43.0" },
  { name: "letsencrypt", url: "https://github.com/dokku/dokku-letsencrypt.git", version: "0.25.1" },
];

/** Oldest Dokku whose commands the components are written against (dokku-cli.md: the 0.38 series). */
export const MIN_DOKKU_VERSION = "0.38.0";

/** Memory kept for the host itself (Docker, nginx, Dokku, the OS): 1 GiB or a tenth, whichever is more. */
export function allocatableMemoryMb(totalMb: number): number {
  return Math.max(0, Math.floor(totalMb - Math.max(1024, totalMb / 10)));
}
