/**
 * The platform stack (stacks/platform/) as operators run it: its spec comes
 * from the control plane's own configuration (the same keys the running
 * control plane reads) and the hosts table (the control host and its pinned
 * key); each part's environment from a dotenv file of its own. Preview, up and
 * outputs go through the Automation API like a host stack's.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type pg from "pg";
import type { OperationOptions, OperationResult } from "../automation/operationResult.ts";
import { defaultPolicyPack } from "../automation/operations.ts";
import {
  type ProgramOperation,
  type ProgramStack,
  programStackOutputs,
  runProgramStack,
} from "../automation/programStacks.ts";
import type { AutomationSettings } from "../automation/settings.ts";
import type { PolicyPackOptions } from "../automation/tenantStacks.ts";
import { loadBackupSettings } from "../backups/settings.ts";
import type { KnownHost } from "../components/hostPool.ts";
import {
  type ControlPlanePart,
  type PlatformSpec,
  type PlatformSpecInput,
  parsePlatformSpec,
} from "../components/platformSpec.ts";
import { findHostByUrl } from "../database/hosts.ts";
import { HostKeyUntrustedError, HostUrlError, normalizeHostUrl } from "../fleet/hosts.ts";
import { appEnvironment, PLATFORM_PROJECT, platformProgram } from "../stacks/platform/program.ts";
import { parseDotenv } from "./dotenv.ts";
import { portalEnvironment } from "./portalProcess.ts";

export class PlatformSettingsError extends Error {
  override readonly name = "PlatformSettingsError";
}

/** `awskms://alias/<name>?region=…` → `<name>`; any other provider has no key this stack manages. */
export function secretsKeyAlias(secretsProvider: string): string | undefined {
  const match = /^awskms:\/\/alias\/([^?]+)(?:\?|$)/.exec(secretsProvider);
  return match?.[1];
}

function domainOf(name: string, raw: string | undefined): string {
  if (!raw?.trim()) throw new PlatformSettingsError(`${name} is not set: the platform stack serves it`);
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    throw new PlatformSettingsError(`${name} must be an https URL, got ${JSON.stringify(raw)}`);
  }
  if (url.protocol !== "https:")
    throw new PlatformSettingsError(`${name} must be an https URL (the stack gets it a certificate)`);
  return url.hostname;
}

/**
 * The platform spec from the configuration: `MINDROOM_CONTROL_HOST` (a host of
 * the hosts table), `MINDROOM_CONTROL_IMAGE`, `PORTAL_PUBLIC_URL` and
 * `MINDROOM_WEBHOOKS_PUBLIC_URL` (their domains), `MINDROOM_TLS_EMAIL`,
 * `CLOUDFLARE_ZONE_ID` (DNS records), and with `MINDROOM_BACKUP_BUCKET` the
 * bucket (region, retention) and the KMS key named by `PULUMI_SECRETS_PROVIDER`.
 */
export async function loadPlatformSpec(
  pool: pg.Pool,
  settings: AutomationSettings,
  env: NodeJS.ProcessEnv = process.env,
): Promise<PlatformSpec> {
  const hostUrl = env.MINDROOM_CONTROL_HOST?.trim();
  if (!hostUrl)
    throw new PlatformSettingsError(
      "MINDROOM_CONTROL_HOST is not set: add the control host with mindroom-ops hosts add, then name it here",
    );
  const host = await findHostByUrl(pool, normalizeHostUrl(hostUrl));
  if (!host) throw new HostUrlError(`no host ${hostUrl}: add it with mindroom-ops hosts add`);
  if (!host.hostKey)
    throw new HostKeyUntrustedError(`${host.url} has no pinned key: add it with mindroom-ops hosts add`);
  const image = env.MINDROOM_CONTROL_IMAGE?.trim();
  if (!image)
    throw new PlatformSettingsError(
      "MINDROOM_CONTROL_IMAGE is not set: the control plane's image, pinned by digest (…@sha256:…)",
    );
  const zoneId = env.CLOUDFLARE_ZONE_ID?.trim();
  const bucket = env.MINDROOM_BACKUP_BUCKET?.trim();
  let storage: PlatformSpecInput["storage"] = { enabled: false };
  if (bucket) {
    const alias = secretsKeyAlias(settings.secretsProvider);
    if (!alias)
      throw new PlatformSettingsError(
        "MINDROOM_BACKUP_BUCKET is set: set PULUMI_SECRETS_PROVIDER=awskms://alias/<name>?region=<region> too, the key the platform stack creates and encrypts the bucket with",
      );
    const region = env.MINDROOM_BACKUP_REGION?.trim() || env.AWS_REGION?.trim();
    if (!region)
      throw new PlatformSettingsError("MINDROOM_BACKUP_BUCKET is set: set MINDROOM_BACKUP_REGION too");
    const { retentionDays } = loadBackupSettings(settings, env);
    storage = { enabled: true, bucket, region, retentionDays, secretsKeyAlias: alias };
  }
  return parsePlatformSpec({
    environment: settings.environment,
    host: { url: host.url, hostKey: host.hostKey, address: host.address },
    image,
    domains: {
      webhooks: domainOf("MINDROOM_WEBHOOKS_PUBLIC_URL", env.MINDROOM_WEBHOOKS_PUBLIC_URL),
      portal: domainOf("PORTAL_PUBLIC_URL", env.PORTAL_PUBLIC_URL),
    },
    tlsEmail: env.MINDROOM_TLS_EMAIL?.trim() || `ops@${settings.baseDomain}`,
    dns: zoneId ? { enabled: true, zoneId, proxied: false } : { enabled: false },
    storage,
  } satisfies PlatformSpecInput);
}

export type AppEnvironments = Readonly<Record<ControlPlanePart, Readonly<Record<string, string>>>>;

/**
 * Each part's environment from its dotenv file's text. The portal's may hold
 * only what the portal reads (control/portalProcess.ts): an infrastructure
 * credential there is refused, naming the keys, rather than dropped unseen.
 */
export function appEnvironments(
  files: Readonly<Record<ControlPlanePart, { path: string; text: string }>>,
): AppEnvironments {
  const parse = (part: ControlPlanePart) =>
    appEnvironment.parse(Object.fromEntries(parseDotenv(files[part].text, files[part].path)));
  const webhooks = parse("webhooks");
  const portal = parse("portal");
  const allowed = portalEnvironment(portal);
  const refused = Object.keys(portal).filter((name) => !(name in allowed));
  if (refused.length > 0)
    throw new PlatformSettingsError(
      `${files.portal.path} holds ${refused.join(", ")}: the portal reads none of them and holds no infrastructure credentials; give them to the webhooks app (${files.webhooks.path}) or drop them`,
    );
  return { webhooks, portal };
}

/** The platform stack's single stack, named for the environment it runs. */
export function platformStackName(spec: Pick<PlatformSpec, "environment">): string {
  return spec.environment;
}

export function platformStack(
  spec: PlatformSpec,
  privateKey: string,
  environments: AppEnvironments,
  policy?: PolicyPackOptions,
): ProgramStack {
  return {
    ...(policy ? { policy } : {}),
    project: PLATFORM_PROJECT,
    stack: platformStackName(spec),
    program: platformProgram,
    main: join(import.meta.dirname, "..", "stacks", "platform", "index.ts"),
    config: {
      "mindroom:platform": { value: JSON.stringify(spec) },
      "mindroom:sshPrivateKey": { value: privateKey, secret: true },
      "mindroom:webhooksEnvironment": { value: JSON.stringify(environments.webhooks), secret: true },
      "mindroom:portalEnvironment": { value: JSON.stringify(environments.portal), secret: true },
    },
  };
}

export interface PlatformRun {
  readonly spec: PlatformSpec;
  readonly environments: AppEnvironments;
  /** The fleet the policy pack knows (the hosts table's, control host included). */
  readonly hosts: readonly KnownHost[];
}

/** Preview or up the platform stack, through the policy pack like a tenant's (unless policies are off). */
export async function runPlatformStack(
  settings: AutomationSettings,
  run: PlatformRun,
  operation: Exclude<ProgramOperation, "destroy">,
  options: OperationOptions = {},
): Promise<OperationResult> {
  if (!settings.sshKeyPath)
    throw new PlatformSettingsError(
      "DOKKU_SSH_KEY is not set: point it at the private key for the control host",
    );
  const privateKey = readFileSync(settings.sshKeyPath, "utf8");
  const policy = defaultPolicyPack({ ...settings, hosts: run.hosts });
  return runProgramStack(
    settings,
    platformStack(run.spec, privateKey, run.environments, policy),
    operation,
    options,
  );
}

export async function platformStackOutputs(settings: AutomationSettings, spec: PlatformSpec) {
  return programStackOutputs(settings, platformStack(spec, "", { webhooks: {}, portal: {} }));
}
