/**
 * `mindroom-ops platform …`: the platform stack (stacks/platform/), the control
 * plane's own infrastructure, previewed and brought up like a tenant's.
 *
 * Exit codes as the tenant commands' (automation/cli/exitCodes.ts): 2 for usage
 * or configuration (a portal environment holding credentials included), 4 a
 * failed operation, 6 no stack yet (outputs before the first up).
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { EXIT_CODES_HELP, exitCodeForResult } from "../automation/cli/exitCodes.ts";
import { renderResult } from "../automation/cli/render.ts";
import { STANDARD_OPTIONS } from "../automation/cli/standardOptions.ts";
import { loadAutomationSettings } from "../automation/settings.ts";
import { openDatabase } from "../database/connection.ts";
import { fleetHosts, listHosts } from "../database/hosts.ts";
import { loadDatabaseSettings } from "../database/settings.ts";
import {
  appEnvironments,
  loadPlatformSpec,
  platformStackOutputs,
  runPlatformStack,
} from "./platformStack.ts";

export const PLATFORM_HELP = `Usage: mindroom-ops platform <command> [options]

The platform stack: the control plane's apps (webhooks with the worker, and the portal) on
the control host with their domains and TLS, their DNS records, the tenants' backup bucket
(versioned, encrypted, expiring after the retention) and the secrets key.

Commands:
  preview   what an up would change
  up        create or update all of it
  outputs   the stack's outputs (URLs, apps, bucket, key)

Options for preview and up:
  --webhooks-env FILE   the webhooks app's environment (a dotenv file): the worker's keys
  --portal-env FILE     the portal app's environment: only what the portal reads
Options: --json (machine-readable output), --help.

Configuration: MINDROOM_CONTROL_HOST (a host added with mindroom-ops hosts add),
MINDROOM_CONTROL_IMAGE, PORTAL_PUBLIC_URL, MINDROOM_WEBHOOKS_PUBLIC_URL, MINDROOM_TLS_EMAIL,
CLOUDFLARE_ZONE_ID, MINDROOM_BACKUP_BUCKET with MINDROOM_BACKUP_REGION and
MINDROOM_BACKUP_RETENTION, PULUMI_SECRETS_PROVIDER (awskms://alias/<name>), DOKKU_SSH_KEY.
${EXIT_CODES_HELP}`;

export class PlatformUsageError extends Error {}

export async function platformMain(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      ...STANDARD_OPTIONS,
      "webhooks-env": { type: "string" },
      "portal-env": { type: "string" },
    },
  });
  const [command = ""] = positionals;
  if (values.help || command === "") {
    process.stdout.write(`${PLATFORM_HELP}\n`);
    return command === "" && !values.help ? 2 : 0;
  }
  if (!["preview", "up", "outputs"].includes(command))
    throw new PlatformUsageError(`unknown platform command ${command}`);
  const settings = loadAutomationSettings();
  const database = await openDatabase(loadDatabaseSettings(), { maxConnections: 1 });
  const [spec, hosts] = await Promise.all([
    loadPlatformSpec(database.pool, settings),
    listHosts(database.pool).then((table) => fleetHosts(table, settings.hosts)),
  ]).finally(() => database.close());
  const out = (data: unknown, text: string) =>
    process.stdout.write(values.json ? `${JSON.stringify(data, null, 2)}\n` : `${text}\n`);
  if (command === "outputs") {
    const outputs = await platformStackOutputs(settings, spec);
    out(outputs, JSON.stringify(outputs, null, 2));
    return 0;
  }
  const file = (flag: "webhooks-env" | "portal-env") => {
    const path = values[flag];
    if (!path) throw new PlatformUsageError(`platform ${command} needs --${flag} FILE`);
    return { path, text: readFileSync(path, "utf8") };
  };
  const environments = appEnvironments({ webhooks: file("webhooks-env"), portal: file("portal-env") });
  const operation = command === "up" ? "up" : "preview";
  const result = await runPlatformStack(settings, { spec, environments, hosts }, operation);
  const style = { color: !values.json && Boolean(process.stdout.isTTY) };
  out(result, renderResult(style, result, operation === "preview"));
  return exitCodeForResult(result);
}
