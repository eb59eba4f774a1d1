/**
 * The operator commands of the Stripe pipeline, reached through `mindroom-ops`
 * (bin/mindroom-ops dispatches here; automation/ never imports webhooks/):
 *
 *   mindroom-ops sweep [--json]           run the sweep now: queue every customer whose state disagrees
 *   mindroom-ops jobs [list] [--json]     reconcile queue depth and the dead letters
 *   mindroom-ops jobs retry <id>          queue a dead letter's customer again
 *   mindroom-ops usage [--json]           measure every tenant's usage on its host now, record it, warn on quotas
 *
 * Exit codes: the operator CLI's (automation/cli/exitCodes.ts): 0 success, 2 usage or
 * configuration, 6 no such dead letter, 1 anything else.
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import type pg from "pg";
import { EXIT, EXIT_CODES_HELP, exitCodeForError, UsageError } from "../automation/cli/exitCodes.ts";
import { STANDARD_OPTIONS } from "../automation/cli/standardOptions.ts";
import { stripeClient } from "../billing/stripeClient.ts";
import { formatBytes } from "../components/byteSize.ts";
import { cliOperator } from "../database/auditLog.ts";
import { openDatabase } from "../database/connection.ts";
import { createLogger, silentLogger } from "../logging/logger.ts";
import { openReconcileQueue } from "./queue.ts";
import { loadReconcileSettings } from "./reconcile/settings.ts";
import { loadWebhookSettings, type WebhookSettings } from "./settings.ts";
import { type SweepReport, sweep } from "./sweep.ts";
import { collectUsage } from "./usage/collector.ts";

const HELP = `Usage: mindroom-ops sweep [--json]
       mindroom-ops jobs [list] [--json]
       mindroom-ops jobs retry <dead-letter id>
       mindroom-ops usage [--json]

sweep   Lists every subscription from Stripe and every instance from the database,
        queues a reconcile for each customer whose state disagrees (due deletions
        included), and prints what it found. The running service's worker does the work.
jobs    The reconcile queue: jobs queued, active, failed, and the dead letters
        (reconciles that failed every retry), with their last error.
        'retry <id>' queues that customer again and removes the dead letter.
usage   Measures every running or suspended tenant on its Dokku host now (storage in its
        storage entries, agents in its runtime's config; messages are not measurable from
        the host), records today's figures and queues the quota warnings they reach (80 %,
        100 %). The worker does the same every MINDROOM_USAGE_INTERVAL (default 1 h).

${EXIT_CODES_HELP}
Configuration: DATABASE_URL, STRIPE_SECRET_KEY, STRIPE_API_BASE, STRIPE_PRICE_TIERS,
MINDROOM_DELETION_GRACE, MINDROOM_DATA_DIR (as the webhook service reads them); usage
also DOKKU_SSH_KEY.`;

function renderSweep(report: SweepReport): string {
  const lines = [
    `swept ${report.stripeSubscriptions} Stripe subscriptions and ${report.instances} instances in ${report.durationMs} ms (listing ${report.stripeListMs} ms, ${report.stripeRateLimited} pages rate limited and tried again)`,
    `queued ${report.enqueued.length} customers (${report.dueDeletions} due deletions)`,
    ...report.enqueued.map((e) => `  ${e.customerKey}  ${e.reason}`),
    `${report.flagged.length} findings`,
    ...report.flagged.map((f) => `  ${f.customerKey}${f.slug ? ` (${f.slug})` : ""}  ${f.finding}`),
  ];
  return `${lines.join("\n")}\n`;
}

function figure(n: number | null, format: (n: number) => string = String): string {
  return n === null ? "not measured" : format(n);
}

async function usage(settings: WebhookSettings, pool: pg.Pool, json: boolean): Promise<number> {
  const { sshKeyPath } = settings.automation;
  if (!sshKeyPath)
    throw new Error("DOKKU_SSH_KEY is not set: point it at the private key for the Dokku hosts");
  const results = await collectUsage({
    pool,
    secrets: () => ({ sshPrivateKey: readFileSync(sshKeyPath, "utf8") }),
    log: json ? silentLogger : createLogger({ level: "warn", stream: process.stderr }),
  });
  if (json) process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
  else {
    process.stdout.write(`measured ${results.length} tenant(s)\n`);
    for (const r of results)
      process.stdout.write(
        r.usage
          ? `  ${r.slug}  ${r.day}  storage ${figure(r.usage.storageBytes, formatBytes)}, agents ${figure(r.usage.agents)}, messages ${figure(r.usage.messages)}${r.warnings ? `; ${r.warnings} quota warning(s) queued` : ""}\n`
          : `  ${r.slug}  ${r.day}  not measured: ${r.error}\n`,
      );
  }
  return results.some((r) => r.error) ? 1 : 0;
}

export async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { ...STANDARD_OPTIONS },
  });
  const [command, sub = "list", id] = positionals;
  if (values.help || !command) {
    process.stdout.write(`${HELP}\n`);
    return command ? EXIT.ok : EXIT.usage;
  }
  if (command !== "sweep" && command !== "jobs" && command !== "usage")
    throw new UsageError(`unknown command ${command}`);
  if (command === "jobs" && sub !== "list" && sub !== "retry")
    throw new UsageError(`unknown jobs command ${sub}`);
  if (command === "jobs" && sub === "retry" && !id) throw new UsageError("jobs retry needs a dead-letter id");

  const settings = loadWebhookSettings();
  const database = await openDatabase(settings.database, { maxConnections: 2 });
  if (command === "usage") {
    try {
      return await usage(settings, database.pool, values.json === true);
    } finally {
      await database.close();
    }
  }
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
      const code = exitCodeForError(error);
      process.stderr.write(`mindroom-ops: ${error.message}\n${code === EXIT.usage ? `\n${HELP}\n` : ""}`);
      process.exit(code);
    },
  );
}
