/**
 * The operator commands of the Stripe pipeline, reached through `mindroom-ops`
 * (bin/mindroom-ops dispatches here; automation/ never imports webhooks/):
 *
 *   mindroom-ops sweep [--json]           run the sweep now: queue every customer whose state disagrees
 *   mindroom-ops jobs [list] [--json]     reconcile queue depth and the dead letters
 *   mindroom-ops jobs retry <id>          queue a dead letter's customer again
 *
 * Exit codes: 0 success, 1 error, 2 usage error.
 */
import { parseArgs } from "node:util";
import { stripeClient } from "../billing/stripeClient.ts";
import { cliOperator } from "../database/auditLog.ts";
import { openDatabase } from "../database/connection.ts";
import { createLogger, silentLogger } from "./log.ts";
import { openReconcileQueue } from "./queue.ts";
import { loadReconcileSettings } from "./reconcile/settings.ts";
import { loadWebhookSettings } from "./settings.ts";
import { type SweepReport, sweep } from "./sweep.ts";

const HELP = `Usage: mindroom-ops sweep [--json]
       mindroom-ops jobs [list] [--json]
       mindroom-ops jobs retry <dead-letter id>

sweep   Lists every subscription from Stripe and every instance from the database,
        queues a reconcile for each customer whose state disagrees (due deletions
        included), and prints what it found. The running service's worker does the work.
jobs    The reconcile queue: jobs queued, active, failed, and the dead letters
        (reconciles that failed every retry), with their last error.
        'retry <id>' queues that customer again and removes the dead letter.

Configuration: DATABASE_URL, STRIPE_SECRET_KEY, STRIPE_API_BASE, STRIPE_PRICE_TIERS,
MINDROOM_DELETION_GRACE, MINDROOM_DATA_DIR (as the webhook service reads them).`;

class UsageError extends Error {}

function renderSweep(report: SweepReport): string {
  const lines = [
    `swept ${report.stripeSubscriptions} Stripe subscriptions and ${report.instances} instances in ${report.durationMs} ms`,
    `queued ${report.enqueued.length} customers (${report.dueDeletions} due deletions)`,
    ...report.enqueued.map((e) => `  ${e.customerKey}  ${e.reason}`),
    `${report.flagged.length} findings`,
    ...report.flagged.map((f) => `  ${f.customerKey}${f.slug ? ` (${f.slug})` : ""}  ${f.finding}`),
  ];
  return `${lines.join("\n")}\n`;
}

export async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { json: { type: "boolean" }, help: { type: "boolean", short: "h" } },
  });
  const [command, sub = "list", id] = positionals;
  if (values.help || !command) {
    process.stdout.write(`${HELP}\n`);
    return command ? 0 : 2;
  }
  if (command !== "sweep" && command !== "jobs") throw new UsageError(`unknown command ${command}`);
  if (command === "jobs" && sub !== "list" && sub !== "retry")
    throw new UsageError(`unknown jobs command ${sub}`);
  if (command === "jobs" && sub === "retry" && !id) throw new UsageError("jobs retry needs a dead-letter id");

  const settings = loadWebhookSettings();
  const database = await openDatabase(settings.database, { maxConnections: 2 });
  try {
    const queue = await openReconcileQueue({ url: database.url }, { poolSize: 2 });
    try {
      if (command === "sweep") {
        const report = await sweep({
          db: database,
          queue,
          stripe: stripeClient({ secretKey: settings.stripe.secretKey, apiBase: settings.stripe.apiBase }),
          settings: {
            automation: settings.automation,
            reconcile: loadReconcileSettings(settings.automation),
          },
          log: values.json ? silentLogger : createLogger({ level: "warn", stream: process.stderr }),
        });
        process.stdout.write(values.json ? `${JSON.stringify(report, null, 2)}\n` : renderSweep(report));
        return 0;
      }
      if (sub === "retry") {
        await queue.retryDeadLetter(String(id), cliOperator());
        process.stdout.write(`queued again: dead letter ${id}\n`);
        return 0;
      }
      const [depth, dead] = await Promise.all([queue.depth(), queue.deadLetters()]);
      if (values.json) {
        process.stdout.write(`${JSON.stringify({ depth, deadLetters: dead }, null, 2)}\n`);
      } else {
        process.stdout.write(
          `queued ${depth.queued}, active ${depth.active}, failed ${depth.failed}, dead letters ${depth.deadLetters}\n`,
        );
        for (const d of dead) {
          process.stdout.write(
            `  ${d.id}  ${d.customerKey}  ${d.trigger}: ${d.reason}  (${d.retries} retries, ${d.deadLetteredAt.toISOString()})\n    ${d.error.split("\n")[0] ?? ""}\n`,
          );
        }
      }
      return 0;
    } finally {
      await queue.stop({ timeoutMs: 5_000 });
    }
  } finally {
    await database.close();
  }
}

if (import.meta.main) {
  main(process.argv.slice(2)).then(
    // Exit explicitly: a dependency's exit hook otherwise resets the code to 0 (stdout to pipes and files is synchronous on Linux).
    (code) => process.exit(code),
    (error: Error) => {
      const parseError = (error as { code?: string }).code?.startsWith("ERR_PARSE_ARGS") ?? false;
      if (error instanceof UsageError || parseError) {
        process.stderr.write(`mindroom-ops: ${error.message}\n\n${HELP}\n`);
        process.exit(2);
      }
      process.stderr.write(`mindroom-ops: ${error.message}\n`);
      process.exit(1);
    },
  );
}
