/**
 * `mindroom-ops rollout`: moves every tenant to a new MindRoom runtime image
 * through the queue (webhooks/rollouts.ts), the canary first, halting on the
 * first failure; resumable; the same state the operator console shows.
 *
 * Exit codes: 0 started, resumed or succeeded; 1 error, or halted (with
 * --wait); 2 usage error; 3 another rollout is open; 6 no such rollout.
 */
import { parseArgs } from "node:util";
import { renderTable } from "../automation/cli/render.ts";
import { STANDARD_OPTIONS } from "../automation/cli/standardOptions.ts";
import { audit, cliOperator } from "../database/auditLog.ts";
import { openDatabase } from "../database/connection.ts";
import {
  findRollout,
  listRollouts,
  type Rollout,
  RolloutConflictError,
  type RolloutTenant,
  rolloutTenants,
} from "../database/rollouts.ts";
import { loadDatabaseSettings } from "../database/settings.ts";
import { RolloutPlanError } from "../fleet/rolloutPlan.ts";
import { openReconcileQueue } from "./queue.ts";
import { resumeRollout, startRollout } from "./rollouts.ts";

export const ROLLOUT_HELP = `Usage: mindroom-ops rollout --image <registry/name@sha256:…> [--canary N] [--batch N] [--wait]
       mindroom-ops rollout --resume <id> [--wait]
       mindroom-ops rollout --status <id> [--wait]
       mindroom-ops rollout --list

Moves every tenant (except those being deleted) to a new MindRoom runtime image, through
the worker's queue: first --canary tenants (default 1), then --batch tenants at a time
(default 5), each wave only once the one before converged. The first failed operation
halts the rollout and leaves the waves after it untouched; --resume tries the failed
tenants again and carries on. The operator console shows the same progress.

  --wait   follow the rollout until it succeeds (exit 0) or halts (exit 1)
  --json   machine-readable output

Exit codes: 0 started/resumed/succeeded, 1 error or halted, 2 usage error, 3 another
rollout is running or halted, 6 no such rollout. Configuration: DATABASE_URL,
MINDROOM_OPERATOR (audit name). The webhook service's worker does the work.`;

export class RolloutUsageError extends Error {}

function count(raw: string | undefined, name: string, fallback: number): number {
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw)) throw new RolloutUsageError(`--${name} takes a whole number, got ${raw}`);
  return Number(raw);
}

function progress(tenants: readonly RolloutTenant[]): string {
  const by = (s: RolloutTenant["status"]) => tenants.filter((t) => t.status === s).length;
  return `${by("succeeded")} of ${tenants.length} moved, ${by("applying")} applying, ${by("failed")} failed, ${by("pending")} pending`;
}

function render(rollout: Rollout, tenants: readonly RolloutTenant[]): string {
  return [
    `rollout ${rollout.id}: ${rollout.status} (${progress(tenants)})`,
    `image ${rollout.image}, canary ${rollout.canary}, batches of ${rollout.batchSize}, by ${rollout.requestedBy}`,
    ...(rollout.error ? [`halted: ${rollout.error}`] : []),
    renderTable(
      ["WAVE", "TENANT", "STATUS", "ERROR"],
      tenants.map((t) => [t.wave === 0 ? "canary" : String(t.wave), t.slug, t.status, t.error ?? ""]),
    ),
  ].join("\n");
}

export async function rolloutMain(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      image: { type: "string" },
      canary: { type: "string" },
      batch: { type: "string" },
      resume: { type: "string" },
      status: { type: "string" },
      list: { type: "boolean" },
      wait: { type: "boolean" },
      ...STANDARD_OPTIONS,
    },
  });
  const modes = [values.image, values.resume, values.status, values.list].filter((v) => v !== undefined);
  if (values.help || modes.length === 0) {
    process.stdout.write(`${ROLLOUT_HELP}\n`);
    return values.help ? 0 : 2;
  }
  if (modes.length > 1) throw new RolloutUsageError("give one of --image, --resume, --status, --list");
  const canary = count(values.canary, "canary", 1);
  const batchSize = count(values.batch, "batch", 5);
  const database = await openDatabase(loadDatabaseSettings(), { maxConnections: 2 });
  const write = (text: string, json: unknown) =>
    process.stdout.write(values.json ? `${JSON.stringify(json, null, 2)}\n` : `${text}\n`);
  try {
    if (values.list) {
      const rollouts = await listRollouts(database.pool);
      write(
        renderTable(
          ["ID", "STATUS", "IMAGE", "STARTED", "BY"],
          rollouts.map((r) => [
            r.id,
            r.status,
            r.image,
            r.createdAt.toISOString().slice(0, 16),
            r.requestedBy,
          ]),
        ),
        rollouts,
      );
      return 0;
    }
    let id = values.status;
    if (values.image !== undefined || values.resume !== undefined) {
      const queue = await openReconcileQueue({ url: database.url }, { poolSize: 2 });
      const actor = cliOperator();
      try {
        const deps = { pool: database.pool, boss: queue.boss };
        const rollout =
          values.image !== undefined
            ? await startRollout(deps, {
                image: values.image,
                canary,
                batchSize,
                requestedBy: actor,
              })
            : await resumeRollout(deps, values.resume as string);
        await audit(database.pool, {
          actor,
          action: values.image !== undefined ? "rollout.started" : "rollout.resumed",
          reason: null,
          details: {
            rollout: rollout.id,
            image: rollout.image,
            canary: rollout.canary,
            batch: rollout.batchSize,
          },
        });
        id = rollout.id;
      } finally {
        await queue.stop({ timeoutMs: 5_000 });
      }
    }
    const shown = await findRollout(database.pool, id as string);
    if (!shown) {
      process.stderr.write(`mindroom-ops: no rollout ${id}: list them with mindroom-ops rollout --list\n`);
      return 6;
    }
    let rollout = shown;
    let tenants = await rolloutTenants(database.pool, rollout.id);
    let last = "";
    while (values.wait && rollout.status === "running") {
      const line = progress(tenants);
      if (line !== last && !values.json) process.stderr.write(`… ${line}\n`);
      last = line;
      await new Promise((resolve) => setTimeout(resolve, 2000));
      rollout = (await findRollout(database.pool, rollout.id)) as Rollout;
      tenants = await rolloutTenants(database.pool, rollout.id);
    }
    write(render(rollout, tenants), { ...rollout, tenants });
    return values.wait && rollout.status === "halted" ? 1 : 0;
  } catch (error) {
    if (error instanceof RolloutConflictError) {
      process.stderr.write(`mindroom-ops: ${error.message}\n`);
      return 3;
    }
    if (error instanceof RolloutPlanError) throw new RolloutUsageError(error.message);
    throw error;
  } finally {
    await database.close();
  }
}

if (import.meta.main) {
  try {
    process.exit(await rolloutMain(process.argv.slice(3)));
  } catch (error) {
    const usage =
      error instanceof RolloutUsageError ||
      ((error as { code?: string }).code?.startsWith("ERR_PARSE_ARGS") ?? false);
    process.stderr.write(`mindroom-ops: ${(error as Error).message}\n${usage ? `\n${ROLLOUT_HELP}\n` : ""}`);
    process.exit(usage ? 2 : 1);
  }
}
