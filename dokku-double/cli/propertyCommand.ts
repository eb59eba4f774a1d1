/**
 * `common.CommandPropertySet`, the body of every Go plugin's `X:set`
 * (apps, ps, network, builder, proxy): validate scope and property, then
 * `=====> Setting <prop> to <value>` or `=====> Unsetting <prop>`.
 */
import type { Ctx } from "./context.ts";
import { fail } from "./errors.ts";
import { compareBytes } from "./goJson.ts";
import { verifyAppGo } from "./names.ts";
import { GLOBAL_SCOPE, propDelete, propSet } from "./properties.ts";

export interface PropertySchema {
  /** Valid property names for an app. */
  app: readonly string[];
  /** Names that may also be set with `--global`. */
  global: readonly string[];
}

export function commandPropertySet(
  ctx: Ctx,
  plugin: string,
  scope: string,
  property: string,
  value: string,
  schema: PropertySchema,
): void {
  if (scope !== GLOBAL_SCOPE) verifyAppGo(ctx, scope);
  if (scope === GLOBAL_SCOPE && !schema.global.includes(property))
    fail("Property cannot be specified globally");
  if (property === "") fail("No property specified");
  const valid = [...new Set([...schema.app, ...schema.global])].sort(compareBytes);
  if (!valid.includes(property))
    fail(`Invalid property specified, valid properties include: ${valid.join(", ")}`);
  if (value !== "") {
    ctx.out.info2Quiet(`Setting ${property} to ${value}`);
    propSet(ctx.state, plugin, scope, property, value);
  } else {
    ctx.out.info2Quiet(`Unsetting ${property}`);
    propDelete(ctx.state, plugin, scope, property);
  }
}

/** The bash plugins' `X:set <app> <key> [value]` body (checks, nginx, letsencrypt, services). */
export function bashPropertySet(ctx: Ctx, plugin: string, scope: string, key: string, value: string): void {
  if (value !== "") {
    ctx.out.info2Quiet(`Setting ${key} to ${value}`);
    propSet(ctx.state, plugin, scope, key, value);
  } else {
    ctx.out.info2Quiet(`Unsetting ${key}`);
    propDelete(ctx.state, plugin, scope, key);
  }
}
