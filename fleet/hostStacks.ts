/**
 * A host's stack: the DokkuHost component (stacks/host/) for one host of the
 * hosts table, previewed and brought up like a tenant's; after an up the host
 * is checked again and its readiness recorded, so it takes tenants as soon as
 * the stack made it ready.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type pg from "pg";
import type { OperationOptions, OperationResult } from "../automation/operationResult.ts";
import {
  type ProgramOperation,
  type ProgramStack,
  programStackOutputs,
  runProgramStack,
} from "../automation/programStacks.ts";
import type { AutomationSettings } from "../automation/settings.ts";
import { sshTarget } from "../components/tenantSpec.ts";
import type { AuditActor } from "../database/auditLog.ts";
import { findHostByUrl, type Host } from "../database/hosts.ts";
import { HOST_PROJECT, type HostStackConfig, hostProgram } from "../stacks/host/program.ts";
import { checkHost, HostKeyUntrustedError, HostUrlError, normalizeHostUrl } from "./hosts.ts";

/** `ssh://root@dokku-1.example.com:22` → `dokku-1.example.com-22` (a valid stack name). */
export function hostStackName(url: string): string {
  const { host, port } = sshTarget(url);
  return `${host.replace(/[^A-Za-z0-9_.-]/g, "-")}-${port}`;
}

export function hostStack(host: Host, settings: AutomationSettings, privateKey: string): ProgramStack {
  if (!host.hostKey)
    throw new HostKeyUntrustedError(`${host.url} has no pinned key: add it with mindroom-ops hosts add`);
  const config: HostStackConfig = {
    url: host.url,
    hostKey: host.hostKey,
    globalDomain: settings.baseDomain,
    letsencryptEmail: `ops@${settings.baseDomain}`,
  };
  return {
    project: HOST_PROJECT,
    stack: hostStackName(host.url),
    program: hostProgram,
    main: join(import.meta.dirname, "..", "stacks", "host", "index.ts"),
    config: {
      "mindroom:host": { value: JSON.stringify(config) },
      "mindroom:sshPrivateKey": { value: privateKey, secret: true },
    },
  };
}

async function knownHost(pool: pg.Pool, url: string): Promise<Host> {
  const host = await findHostByUrl(pool, normalizeHostUrl(url));
  if (!host) throw new HostUrlError(`no host ${url}: add it with mindroom-ops hosts add`);
  return host;
}

/** Preview or up (then check and record readiness) a host's stack. */
export async function runHostStack(
  pool: pg.Pool,
  settings: AutomationSettings,
  url: string,
  operation: Exclude<ProgramOperation, "destroy">,
  actor: AuditActor,
  options: OperationOptions = {},
): Promise<{ result: OperationResult; host: Host }> {
  const host = await knownHost(pool, url);
  if (!settings.sshKeyPath)
    throw new Error("DOKKU_SSH_KEY is not set: point it at the private key for the Dokku hosts");
  const privateKey = readFileSync(settings.sshKeyPath, "utf8");
  const result = await runProgramStack(settings, hostStack(host, settings, privateKey), operation, options);
  if (operation !== "up" || result.status !== "succeeded") return { result, host };
  return { result, host: (await checkHost(pool, host.url, privateKey, actor)).host };
}

export async function hostStackOutputs(pool: pg.Pool, settings: AutomationSettings, url: string) {
  const host = await knownHost(pool, url);
  return programStackOutputs(settings, hostStack(host, settings, ""));
}
