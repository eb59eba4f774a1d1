/**
 * Drift of a tenant's stack on its Dokku host: read-only checks of what the
 * components recorded (driftProbes.ts), and what they find recorded as repair
 * tokens in the stack's config so the next `up` re-runs exactly those commands.
 */
import type { ConfigMap, Stack } from "@pulumi/pulumi/automation/index.js";
import { parseTenantSpec } from "../components/tenantSpec.ts";
import { CONFIG_KEYS, stackConfigKey } from "../stacks/tenantProgram.ts";
import {
  type DriftFinding,
  driftProbes,
  findings,
  type RecordedResource,
  repairTokens,
} from "./driftProbes.ts";
import { runDokkuReads } from "./hostShell.ts";

/** New repair tokens for what `drift` names, so the next up re-runs exactly those commands. */
export async function recordRepairs(stack: Stack, config: ConfigMap, drift: readonly DriftFinding[]) {
  const raw = config[stackConfigKey(CONFIG_KEYS.repairs)]?.value;
  const existing = raw ? (JSON.parse(raw) as Record<string, string>) : {};
  const repairs = repairTokens(existing, drift, `repair-${Date.now().toString(36)}`);
  await stack.setConfig(stackConfigKey(CONFIG_KEYS.repairs), { value: JSON.stringify(repairs) });
}

/** Read-only checks of the tenant's Dokku host against what its components recorded. */
export async function observeDrift(
  stack: Stack,
  signal?: AbortSignal,
): Promise<{ drift: DriftFinding[]; config: ConfigMap }> {
  const [deployment, config] = await Promise.all([stack.exportStack(), stack.getAllConfig()]);
  const resources = ((deployment.deployment as { resources?: RecordedResource[] }).resources ??
    []) as RecordedResource[];
  const probes = driftProbes(resources);
  if (probes.length === 0) return { drift: [], config };
  const spec = parseTenantSpec(JSON.parse(config[stackConfigKey(CONFIG_KEYS.tenant)]?.value ?? "null"));
  const privateKey = config[stackConfigKey(CONFIG_KEYS.sshPrivateKey)]?.value ?? "";
  const results = await runDokkuReads(
    { url: spec.host.url, hostKey: spec.host.hostKey, privateKey },
    probes.map((p) => p.command),
    { signal },
  );
  return { drift: findings(probes, results), config };
}
