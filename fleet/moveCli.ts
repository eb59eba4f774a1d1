/**
 * `mindroom-ops move <tenant> <host>` (dispatched by control/cli.ts): moves a
 * tenant to another Dokku host. The refusals (movePlan.ts) are decided from
 * the platform database before anything changes; then, under the tenant's
 * lease, recorded as a `move` operation with an audit row
 * (control/operatorAction.ts), the steps run (tenantMove.ts) against the
 * hosts, the backup bucket and the tenant's stack, with the journal in the
 * database so a move cut off anywhere is finished by running it again.
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import type { Deployment } from "@pulumi/pulumi/automation/index.js";
import { startCommandOperations } from "../automation/cli/commandOperations.ts";
import { confirmedByName } from "../automation/cli/confirmation.ts";
import { EXIT } from "../automation/cli/exitCodes.ts";
import { STANDARD_OPTIONS } from "../automation/cli/standardOptions.ts";
import type { OperationResult } from "../automation/operationResult.ts";
import { retiredStackName } from "../automation/retiredCheckpoint.ts";
import { loadAutomationSettings } from "../automation/settings.ts";
import { backupClient, loadBackupSettings } from "../backups/settings.ts";
import { tenantData } from "../backups/tenantData.ts";
import { parseTenantSpec } from "../components/tenantSpec.ts";
import { tenantFootprint } from "../components/tiers.ts";
import { recordedAction } from "../control/operatorAction.ts";
import { cliOperator } from "../database/auditLog.ts";
import { openDatabase } from "../database/connection.ts";
import { hostPool, listHosts } from "../database/hosts.ts";
import { findInstanceBySlug, recordActual, updateDesired } from "../database/instances.ts";
import { loadDatabaseSettings } from "../database/settings.ts";
import { findMove, finishMove, saveMove } from "../database/tenantMoves.ts";
import { placedInstances, shapeOf } from "../webhooks/reconcile/store.ts";
import { specHash } from "../webhooks/reconcile/tenantSpecFor.ts";
import {
  type Checkpoint,
  MoveRefusedError,
  moveTarget,
  oldHostCheckpoint,
  retarget,
  startedMove,
} from "./movePlan.ts";
import { dataActions, type MoveActions, runMove } from "./tenantMove.ts";

export const MOVE_HELP = `Usage: mindroom-ops move <tenant> <host> [--reason TEXT] [--yes] [--json]

Moves a tenant to another Dokku host (ssh://user@host:port, as mindroom-ops hosts list shows it):
  1. a fresh backup on its host, whose apps then stay stopped (nothing written after it is lost)
  2. the stack's checkpoint saved (what is on the old host, to remove it at the end)
  3. the tenant pointed at the new host (recorded: reconciles keep it there) and brought up
     there; its DNS record follows the host
  4. the backup restored there, the tenant resumed
  5. the tenant removed from the old host (its apps, services and storage, through Dokku)
Refused before anything changes when the host is unknown, is the tenant's host already, takes
no tenants (cordoned, draining, not ready) or has no room for every process the tenant runs.
A move cut off anywhere (a dropped connection) is finished by running the same command again;
it resumes at the step it stopped at. Asks for confirmation unless --yes (the tenant is down
while it moves). Progress goes to stderr; --json prints the result on stdout.

Configuration: as for backup and up (MINDROOM_BACKUP_BUCKET, AWS_*, DOKKU_SSH_KEY,
MINDROOM_ROOT_SECRET, DATABASE_URL, PULUMI_BACKEND_URL, MINDROOM_OPERATOR).
Exit codes: 0 moved, 1 failed (run it again to finish), 2 usage, 5 refused (same host, no room,
host takes no tenants, another move unfinished), 6 tenant or host not found, 8 cancelled.`;

export class MoveUsageError extends Error {
  override readonly name = "MoveUsageError";
}

export class MoveNotFoundError extends Error {
  override readonly name = "MoveNotFoundError";
}

/** A step's operation on the stack did not succeed; the message carries the engine's. */
export class MoveStepError extends Error {
  override readonly name = "MoveStepError";
}

/** Exit code for what a move threw (the CLI's). */
export function moveExitCode(error: unknown): number | undefined {
  if (error instanceof MoveUsageError) return EXIT.usage;
  if (error instanceof MoveNotFoundError) return EXIT.notFound;
  if (error instanceof MoveRefusedError) return error.refusal === "unknownHost" ? EXIT.notFound : EXIT.policy;
  return undefined;
}

const succeeded = (what: string, result: OperationResult) => {
  if (result.status !== "succeeded")
    throw new MoveStepError(`${what} ${result.status}: ${result.error?.message ?? "no message"}`);
  return result;
};

export async function moveMain(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      ...STANDARD_OPTIONS,
      reason: { type: "string" },
      yes: { type: "boolean", short: "y", default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${MOVE_HELP}\n`);
    return EXIT.ok;
  }
  const [slug, hostArg, extra] = positionals;
  if (!slug || !hostArg) throw new MoveUsageError("move needs a tenant and a host");
  if (extra !== undefined) throw new MoveUsageError(`unexpected argument ${extra}`);
  const automation = loadAutomationSettings();
  const backup = loadBackupSettings(automation);
  const database = await openDatabase(loadDatabaseSettings(), { maxConnections: 2 });
  try {
    const pool = database.pool;
    const instance = await findInstanceBySlug(pool, slug);
    if (!instance?.spec || !instance.host || instance.actualState === "deleted")
      throw new MoveNotFoundError(`tenant ${slug} is not a provisioned tenant of this platform`);
    const spec = parseTenantSpec(instance.spec);
    const table = await listHosts(pool);
    const hosts = hostPool(table);
    const unfinished = await findMove(pool, instance.id);
    const target = moveTarget({
      slug,
      current: instance.host,
      target: hostArg,
      known: hosts.known,
      schedulable: hosts.schedulable,
      placed: await placedInstances(pool, instance.id),
      demand: tenantFootprint(shapeOf(spec.tier, instance.spec)),
      unfinished,
    });
    if (!automation.sshKeyPath)
      throw new MoveUsageError("DOKKU_SSH_KEY is not set: point it at the private key for the Dokku hosts");
    const privateKey = readFileSync(automation.sshKeyPath, "utf8");
    const journal = unfinished ?? startedMove(instance.host, target.url);
    const newSpec = retarget(spec, target, hosts.keys.get(target.url) as string);
    const confirmed = await confirmedByName(slug, {
      yes: values.yes,
      what: `This stops tenant ${slug} and moves it to ${target.url}.`,
      withoutTerminal: "move stops the tenant while it moves",
    });
    if (!confirmed) return EXIT.cancelled;

    const say = (line: string) => {
      process.stderr.write(`${slug}: ${line}\n`);
    };
    const { ops, close } = await startCommandOperations(automation, database, table);
    try {
      const deps = { client: backupClient(backup), bucket: backup.bucket, rootSecret: automation.rootSecret };
      const result = await recordedAction(
        pool,
        ops.leases,
        {
          slug,
          instance,
          kind: "move",
          actor: cliOperator(),
          reason: values.reason ?? `move from ${journal.from} to ${journal.to}`,
        },
        async (progress, lost, lease) => {
          const step = (line: string) => {
            say(line);
            progress(line);
          };
          // The backup step runs only before the switch, while the row's spec still names the old host.
          const actions: MoveActions = {
            ...dataActions(
              { ...deps, onStep: step },
              tenantData(spec, privateKey),
              tenantData(newSpec, privateKey),
            ),
            exportCheckpoint: async () => (await ops.stacks.exportCheckpoint(slug)) as Checkpoint,
            async switchHost() {
              await updateDesired(pool, instance.id, {
                host: target.url,
                spec: newSpec as unknown as Record<string, unknown>,
                specHash: specHash(newSpec),
              });
              const up = succeeded(
                `the up on ${target.url}`,
                await ops.pool.apply(newSpec, ops.secrets(), { lease, signal: lost }),
              );
              await recordActual(pool, instance.id, {
                actualState: instance.actualState,
                ...(up.outputs ? { outputs: { ...up.outputs } } : {}),
                appliedSpecHash: specHash(newSpec),
              });
            },
            removeFromOldHost: (checkpoint) =>
              ops.stacks.destroyCheckpoint(
                slug,
                oldHostCheckpoint(checkpoint, {
                  from: slug,
                  into: retiredStackName(slug),
                }) as unknown as Deployment,
              ),
          };
          const report = await runMove(
            journal,
            actions,
            { save: (j) => saveMove(pool, instance.id, j), finish: () => finishMove(pool, instance.id) },
            step,
            lost,
          );
          return {
            from: report.from,
            to: report.to,
            backupAt: report.backupAt.toISOString(),
            steps: [...report.ran],
          };
        },
      );
      process.stdout.write(
        values.json ? `${JSON.stringify(result)}\n` : `moved ${slug} from ${result.from} to ${result.to}\n`,
      );
      return EXIT.ok;
    } finally {
      await close();
    }
  } finally {
    await database.close();
  }
}
