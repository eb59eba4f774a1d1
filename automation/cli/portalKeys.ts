/**
 * `mindroom-ops keys portal`: what the portal is configured with instead of the
 * root secret (README "Into MindRoom"): the tenant-access key, which derives
 * tenants' single sign-on keys and Matrix registration secrets and nothing
 * else, and the public key customers' model keys are sealed to. Printed for
 * the operator to put into the portal's secret store.
 */
import { providerKeySealingSeed, tenantAccessKey } from "../../components/tenantSecrets.ts";
import { sealingKeyPair } from "../../database/sealedSecrets.ts";
import { loadAutomationSettings } from "../settings.ts";

export function portalKeys(): Record<string, string> {
  const { rootSecret } = loadAutomationSettings();
  return {
    MINDROOM_TENANT_ACCESS_KEY: tenantAccessKey(rootSecret),
    MINDROOM_PROVIDER_KEYS_PUBLIC_KEY: sealingKeyPair(providerKeySealingSeed(rootSecret)).publicKey,
  };
}

export function printPortalKeys(json: boolean): number {
  const keys = portalKeys();
  process.stdout.write(
    json
      ? `${JSON.stringify(keys)}\n`
      : `${Object.entries(keys)
          .map(([name, value]) => `${name}=${value}`)
          .join("\n")}\n`,
  );
  return 0;
}
