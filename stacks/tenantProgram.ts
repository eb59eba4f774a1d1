/**
 * The tenant stack program: stack config → one MindRoomTenant → stack outputs.
 * The Automation API runs it inline; the pulumi CLI runs it through Pulumi.yaml
 * (stacks/index.ts), so both see exactly the same program.
 */
import * as pulumi from "@pulumi/pulumi";
import { MindRoomTenant, type TenantOutputs } from "../components/tenant.ts";
import { parseTenantSpec } from "../components/tenantSpec.ts";

/** Stack config keys, in the `mindroom` namespace. */
export const CONFIG_KEYS = {
  tenant: "tenant",
  rootSecret: "rootSecret",
  sshPrivateKey: "sshPrivateKey",
  originCertificate: "originCertificate",
  originKey: "originKey",
  repairs: "repairs",
  /** Model provider keys (secret JSON: the runtime's variable name → key), written by the worker. */
  providerKeys: "providerKeys",
} as const;

export const CONFIG_NAMESPACE = "mindroom";

/** A config key as the Automation API names it: `mindroom:<key>`. */
export function stackConfigKey(name: (typeof CONFIG_KEYS)[keyof typeof CONFIG_KEYS]): string {
  return `${CONFIG_NAMESPACE}:${name}`;
}

export async function tenantProgram(): Promise<TenantOutputs> {
  const config = new pulumi.Config(CONFIG_NAMESPACE);
  const spec = parseTenantSpec(config.requireObject(CONFIG_KEYS.tenant));
  const certificate = config.getSecret(CONFIG_KEYS.originCertificate);
  const key = config.getSecret(CONFIG_KEYS.originKey);
  const repairs = config.getObject<Record<string, string>>(CONFIG_KEYS.repairs);
  const providerKeys = config.getSecretObject<Record<string, string>>(CONFIG_KEYS.providerKeys);
  const tenant = new MindRoomTenant("tenant", {
    spec,
    rootSecret: config.requireSecret(CONFIG_KEYS.rootSecret),
    sshPrivateKey: config.requireSecret(CONFIG_KEYS.sshPrivateKey),
    ...(certificate && key ? { originCertificate: { certificate, key } } : {}),
    ...(repairs ? { repairs } : {}),
    ...(providerKeys ? { providerKeys } : {}),
  });
  return tenant.outputs;
}
