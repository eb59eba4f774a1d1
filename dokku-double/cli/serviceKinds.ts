/**
 * What differs between dokku-postgres and dokku-redis (upstream's
 * `common-functions` are byte-identical, only `config` changes), plus the
 * lookups every service subcommand starts with.
 */
import type { Ctx } from "./context.ts";
import { fail } from "./errors.ts";
import { DOKKU_LIB_ROOT } from "./paths.ts";
import type { ServiceState } from "./state.ts";

export interface ServiceKind {
  /** Command prefix and plugin name: `postgres`, `redis`. */
  prefix: string;
  label: string;
  defaultAlias: string;
  altAlias: string;
  scheme: string;
  image: string;
  imageVersion: string;
  port: number;
  configSuffix: string;
  /** The DSN written into linked apps. */
  url(service: string, state: ServiceState, scheme: string): string;
}

export const POSTGRES: ServiceKind = {
  prefix: "postgres",
  label: "Postgres",
  defaultAlias: "DATABASE",
  altAlias: "DOKKU_POSTGRES",
  scheme: "postgres",
  image: "postgres",
  imageVersion: "18.4",
  port: 5432,
  configSuffix: "data",
  url: (service, state, scheme) =>
    `${scheme}://postgres:${state.password}@${dnsHostname("postgres", service)}:5432/${state.databaseName}`,
};

export const REDIS: ServiceKind = {
  prefix: "redis",
  label: "Redis",
  defaultAlias: "REDIS",
  altAlias: "DOKKU_REDIS",
  scheme: "redis",
  image: "redis",
  imageVersion: "8.8.0",
  port: 6379,
  configSuffix: "config",
  url: (service, state, scheme) => `${scheme}://:${state.password}@${dnsHostname("redis", service)}:6379`,
};

/** `service_dns_hostname`: `dokku.<prefix>.<svc>` with `.` and `_` turned into `-`. */
export function dnsHostname(prefix: string, service: string): string {
  return `dokku.${prefix}.${service}`.replace(/[._]/g, "-");
}

/**
 * The service's folder (`<kind>:info --service-root`). Like the plugin's, it is a
 * real folder, holding the files the plugin keeps there (backup credentials), in
 * the instance's state folder instead of `/var/lib/dokku/services`.
 */
export function serviceRoot(kind: ServiceKind, service: string): string {
  const stateDir = process.env.DOKKU_DOUBLE_STATE_DIR;
  const root = stateDir ? `${stateDir}/services` : `${DOKKU_LIB_ROOT}/services`;
  return `${root}/${kind.prefix}/${service}`;
}

export function services(ctx: Ctx, kind: ServiceKind): Record<string, ServiceState> {
  ctx.state.services[kind.prefix] ??= {};
  return ctx.state.services[kind.prefix] ?? {};
}

/** `verify_service_name`. */
export function verifyService(ctx: Ctx, kind: ServiceKind, service: string): ServiceState {
  if (service === "") fail("SERVICE must not be empty");
  const state = services(ctx, kind)[service];
  if (!state) fail(`${kind.label} service ${service} does not exist`);
  return state;
}

export function requireServiceName(service: string): void {
  if (service === "") fail("Please specify a valid name for the service");
}
