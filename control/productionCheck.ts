/**
 * Everything MINDROOM_ENVIRONMENT=production refuses, across every part of the
 * control plane at once: each settings module states the rules for its own
 * variables (and refuses them when it loads), this lists them all together so
 * an operator fixes the configuration in one pass instead of one error per start.
 */
import { isInstalled, type ProviderPlugin, providerPluginProblems } from "../automation/providerPlugins.ts";
import { automationProductionProblems } from "../automation/settings.ts";
import { databaseProductionProblems } from "../database/settings.ts";
import { mailProductionProblems } from "../mail/settings.ts";
import { portalProductionProblems } from "../portal/src/server/settings.ts";
import { tenantProductionProblems } from "../webhooks/reconcile/settings.ts";
import { stripeProductionProblems } from "../webhooks/settings.ts";

/** Every problem, one per variable (the first rule to name a variable wins), in a stable order. */
export function productionProblems(
  env: NodeJS.ProcessEnv,
  /** Whether a provider plugin is installed (this machine's plugin cache unless told). */
  installed: (plugin: ProviderPlugin) => boolean = (p) => isInstalled(p),
): string[] {
  const all = [
    ...automationProductionProblems(env),
    ...databaseProductionProblems(env),
    ...stripeProductionProblems(env),
    ...tenantProductionProblems(env),
    ...portalProductionProblems(env),
    ...mailProductionProblems(env),
    ...providerPluginProblems(installed),
  ];
  const seen = new Set<string>();
  return all.filter((problem) => {
    const variable = /^[A-Z][A-Z0-9_]+/.exec(problem)?.[0] ?? problem;
    if (seen.has(variable)) return false;
    seen.add(variable);
    return true;
  });
}
