/**
 * The control plane's names on its control host, apart from the components
 * (the policy pack reads them and loads neither zod nor the providers).
 */
/** Names on the control host; no tenant name can take them (tenant names start with mr-, mx-, bk-, net-, pg- or redis-). */
export const CONTROL_PLANE_NAMES = {
  network: "mindroom-control",
  apps: { webhooks: "mindroom-webhooks", portal: "mindroom-portal" },
  /** The worker's data folder (Pulumi workspaces, plugin cache) survives deploys. */
  webhooksStorage: "mindroom-webhooks-data",
} as const;
