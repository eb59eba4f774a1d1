/**
 * The cloud provider plugins production tenants need: Cloudflare for DNS
 * records, AWS for backup credentials. Unlike the command provider they cannot
 * be built here (toolchain/ensure.sh builds what it can), so production setup
 * installs the released plugins where the network allows it
 * (`./platform setup --providers`). Where it does not, an operation that needs
 * one fails before the engine starts, naming the exact install command, instead
 * of half-way through an up.
 */
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { TenantSpec } from "../components/tenantSpec.ts";
import { pulumiEnv, toolsDir } from "./pulumiToolchain.ts";

export type CloudProvider = "aws" | "cloudflare";

export interface ProviderPlugin {
  readonly name: CloudProvider;
  /** The version of the SDK package in package.json, which is the plugin version it asks for. */
  readonly version: string;
}

/** A plugin the operation needs is not installed; the message carries the command that installs it. */
export class ProviderPluginMissingError extends Error {
  override readonly name = "ProviderPluginMissingError";
}

const PACKAGE_JSON = resolve(import.meta.dirname, "..", "package.json");

/** The pinned plugins: the exact versions of @pulumi/aws and @pulumi/cloudflare in package.json. */
export function pinnedProviderPlugins(): ProviderPlugin[] {
  const dependencies = (
    JSON.parse(readFileSync(PACKAGE_JSON, "utf8")) as { dependencies: Record<string, string> }
  ).dependencies;
  return (["aws", "cloudflare"] as const).map((name) => {
    const version = dependencies[`@pulumi/${name}`];
    if (!version || !/^\d+\.\d+\.\d+$/.test(version))
      throw new Error(`package.json must pin @pulumi/${name} to an exact version, got ${version}`);
    return { name, version };
  });
}

/** Which cloud providers a tenant's stack uses (DNS records; backup credentials). */
export function providersFor(spec: Pick<TenantSpec, "dns" | "backups">): CloudProvider[] {
  return [
    ...(spec.backups.enabled ? ["aws" as const] : []),
    ...(spec.dns.enabled ? ["cloudflare" as const] : []),
  ];
}

function pulumiHomeDir(): string {
  return pulumiEnv().PULUMI_HOME as string;
}

/** Whether the engine would find the plugin in the project's PULUMI_HOME (a complete install, not a partial one). */
export function isInstalled(plugin: ProviderPlugin, pulumiHome: string = pulumiHomeDir()): boolean {
  const dir = join(pulumiHome, "plugins", `resource-${plugin.name}-v${plugin.version}`);
  return existsSync(dir) && !existsSync(`${dir}.partial`);
}

/** The command that installs the plugins, exactly as an operator runs it from the project folder. */
export function installCommand(plugins: readonly ProviderPlugin[]): string {
  const home = pulumiHomeDir();
  const pulumi = join(toolsDir(), "pulumi", "bin", "pulumi");
  return plugins
    .map((p) => `PULUMI_HOME=${home} ${pulumi} plugin install resource ${p.name} ${p.version}`)
    .join(" && ");
}

/** The pinned plugins among `needed` that are not installed. */
export function missingPlugins(
  needed: readonly CloudProvider[],
  installed: (plugin: ProviderPlugin) => boolean = (p) => isInstalled(p),
): ProviderPlugin[] {
  return pinnedProviderPlugins().filter((p) => needed.includes(p.name) && !installed(p));
}

/** Throws before anything runs when the tenant needs a plugin that is not installed. */
export function assertProviderPlugins(
  spec: Pick<TenantSpec, "slug" | "dns" | "backups">,
  installed?: (plugin: ProviderPlugin) => boolean,
): void {
  const missing = missingPlugins(providersFor(spec), installed);
  if (missing.length === 0) return;
  const names = missing.map((p) => `${p.name} v${p.version}`).join(" and ");
  throw new ProviderPluginMissingError(
    `tenant ${spec.slug} needs the ${names} provider plugin${missing.length > 1 ? "s" : ""}, which ${missing.length > 1 ? "are" : "is"} not installed (nothing was changed). Install with \`./platform setup --providers\`, or where that machine cannot download: ${installCommand(missing)}`,
  );
}

/** For the production check: production tenants always have DNS and backups, so both plugins are needed. */
export function providerPluginProblems(installed?: (plugin: ProviderPlugin) => boolean): string[] {
  const missing = missingPlugins(["aws", "cloudflare"], installed);
  if (missing.length === 0) return [];
  return [
    `the ${missing.map((p) => `${p.name} v${p.version}`).join(" and ")} provider plugin${missing.length > 1 ? "s are" : " is"} not installed (production tenants need DNS records and backups): run ./platform setup --providers, or ${installCommand(missing)}`,
  ];
}
