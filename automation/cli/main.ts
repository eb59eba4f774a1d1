/**
 * mindroom-ops: the operator CLI for tenant stacks. Every command goes through
 * the automation layer (worker pool, tenant locks, policy pack); nothing here
 * talks to Pulumi directly. bin/mindroom-ops sends `sweep`, `jobs`, `usage`, `hosts`,
 * `operators`, `config`, `backups`, `backup`, `restore` and `move` to their own
 * modules; this one owns the overall help.
 *
 * Exit codes are the Pulumi CLI's (exitCodes.ts).
 */
import { readFileSync } from "node:fs";
import { createInterface } from "node:readline/promises";
import { parseArgs } from "node:util";
import { openDatabase } from "../../database/connection.ts";
import { loadDatabaseSettings } from "../../database/settings.ts";
import type { OperationResult } from "../operationResult.ts";
import type { Operations } from "../operations.ts";
import type { ProgressEvent } from "../progress.ts";
import { loadAutomationSettings } from "../settings.ts";
import { startCommandOperations } from "./commandOperations.ts";
import {
  combineExitCodes,
  EXIT,
  EXIT_CODES_HELP,
  exitCodeForError,
  exitCodeForResult,
  UsageError,
} from "./exitCodes.ts";
import { printPortalKeys } from "./portalKeys.ts";
import {
  LiveStatus,
  paint,
  renderChanges,
  renderResult,
  renderTable,
  type Style,
  TenantTally,
} from "./render.ts";
import { STANDARD_OPTIONS } from "./standardOptions.ts";
import { argvColorFlag, colorEnabled, colorFlag } from "./terminal.ts";

const HELP: Record<string, string> = {
  "": `mindroom-ops: operate MindRoom Cloud tenant stacks

Usage: mindroom-ops <command> [options]

Tenant stacks:
  list                       every tenant: tier, status, host, last update, drift
  preview <tenant>|--all     what an up would change (Pulumi-style plan)
  diff <tenant>|--all        the plan with every changed property, old ⇒ new (secrets masked)
  drift <tenant>|--all       what changed outside Pulumi (exit 7 when drift is found)
  up <tenant>|--all          bring the stack up to its spec, repairing recorded drift
  apply <spec.json>          create or update a tenant from a spec file, then up
  refresh <tenant>           refresh the stack's state from its providers
  destroy <tenant> [-y]      final backup, delete everything, remove the stack
  outputs <tenant>           the stack outputs
  history <tenant>           past operations on the stack
  state rebuild <tenant>     re-adopt a running tenant into its lost (empty) stack, host untouched
  backups <tenant>           the tenant's backups (time, part, size)
  backup <tenant>            take a backup now
  restore <tenant>           suspend, restore storage and databases from a backup, resume
  move <tenant> <host>       move to another Dokku host: backup, up there, restore, remove the old
Stripe pipeline:
  sweep                      queue a reconcile for every customer whose state disagrees
  jobs [list|retry <id>]     the reconcile queue and its dead letters
  usage                      measure every tenant's usage on its host now, warn on quotas
Control plane:
  hosts <command>            the Dokku hosts tenants are placed on (list, add, check, cordon, …)
  operators list|add|remove  who may use the operator console
  config check|example       every configuration key, its value and where it comes from
  keys portal                the portal's keys (tenant access, model-key sealing), derived from the root secret

Options: --json (machine-readable output), -y/--yes (no confirmation prompt),
--expect-no-changes (preview, diff, up, refresh: exit 7 if anything changes),
--color=always|never|auto, --no-color (colour also follows NO_COLOR, FORCE_COLOR and
whether the output is a terminal), -h/--help (per command: mindroom-ops <command> --help).
${EXIT_CODES_HELP}
Configuration: MINDROOM_DATA_DIR, DATABASE_URL, PULUMI_BACKEND_URL, PULUMI_CONFIG_PASSPHRASE, DOKKU_SSH_KEY,
MINDROOM_AUTOMATION_WORKERS, MINDROOM_OPERATION_TIMEOUT,
MINDROOM_TENANT_LEASE_TTL (see README.md).`,
  list: "Usage: mindroom-ops list [--json]\n\nOne row per tenant stack: tenant, tier, status, host, last update, drift (from the last drift check).",
  preview:
    "Usage: mindroom-ops preview <tenant>|--all [--expect-no-changes] [--json]\n\nRuns a preview (with the policy pack) and prints what an up would change.\nExit code: 0, or 7 with --expect-no-changes when something would change; 5 when a policy blocks it.",
  diff: "Usage: mindroom-ops diff <tenant>|--all [--expect-no-changes] [--json]\n\nLike preview, with every changed property of every resource as old ⇒ new (secret values masked),\nlike `pulumi preview --diff`.",
  drift:
    "Usage: mindroom-ops drift <tenant>|--all [--json]\n\nChecks each tenant's Dokku host and providers against the stack.\nWith --all, every stack's state is read in one pass and each host is probed in a few SSH sessions;\nonly tenants where that finds something, or cannot decide, get the full check one by one.\nProgress (drift N/M) goes to stderr.\nExit code: 0 no drift, 7 drift found, 4 or 1 when the check itself failed.",
  up: "Usage: mindroom-ops up <tenant>|--all [--probe-drift] [--expect-no-changes] [--json]\n\nRuns an up with the policy pack. It repairs the drift the last `drift` of the tenant found;\n--probe-drift checks the Dokku host first and repairs what it finds (a few seconds more).\n--expect-no-changes: exit 7 when the up changed anything.",
  apply:
    "Usage: mindroom-ops apply <spec.json> [--probe-drift] [--json]\n\nWrites the tenant's full config from the spec (secrets from the platform settings), then runs an up.",
  refresh: "Usage: mindroom-ops refresh <tenant> [--expect-no-changes] [--json]",
  destroy:
    "Usage: mindroom-ops destroy <tenant> [-y|--yes] [--keep-stack] [--json]\n\nRuns the final backup, deletes every resource and removes the stack. Asks for the tenant name\nunless --yes; without a terminal and without --yes it refuses (exit 2). A declined prompt exits 8.",
  outputs: "Usage: mindroom-ops outputs <tenant> [--json]",
  history: "Usage: mindroom-ops history <tenant> [--json]",
  state:
    "Usage: mindroom-ops state rebuild <tenant> [--json]\n\nFor a tenant that runs on its host but whose stack state is lost (deleted, or removed because it\nwas corrupt): runs the tenant's program with the config it last ran with (kept in the platform\ndatabase) and records every resource as it is, without running a single command on the host, so\nthe next up changes nothing. Refused (exit 1) when the stack still holds resources, when there is\nno config to rebuild from, and for tenants with DNS records or backup credentials (cloud resources\na rebuild cannot adopt without their ids).",
  sweep: "Usage: mindroom-ops sweep [--json]  (details: mindroom-ops sweep --help)",
  jobs: "Usage: mindroom-ops jobs [list|retry <id>] [--json]  (details: mindroom-ops jobs --help)",
  usage: "Usage: mindroom-ops usage [--json]  (details: mindroom-ops usage --help)",
  hosts: "Usage: mindroom-ops hosts <command> [options]  (details: mindroom-ops hosts --help)",
  operators: "Usage: mindroom-ops operators list|add|remove  (details: mindroom-ops operators --help)",
  config: "Usage: mindroom-ops config check|example  (details: mindroom-ops config --help)",
  backups: "Usage: mindroom-ops backups <tenant> [--json]  (details: mindroom-ops backups --help)",
  backup: "Usage: mindroom-ops backup <tenant> [--json]  (details: mindroom-ops backup --help)",
  restore: "Usage: mindroom-ops restore <tenant> [options]  (details: mindroom-ops restore --help)",
  move: "Usage: mindroom-ops move <tenant> <host> [options]  (details: mindroom-ops move --help)",
  keys: "Usage: mindroom-ops keys portal [--json]\n\nPrints MINDROOM_TENANT_ACCESS_KEY and MINDROOM_PROVIDER_KEYS_PUBLIC_KEY for the portal's\nenvironment: they let it sign customers in to their MindRoom and seal model keys, and nothing\nelse (the portal never holds the root secret). The first is a secret: put it in a secret store.",
};

/** Commands another module runs (bin/mindroom-ops dispatches them before this one starts). */
const ELSEWHERE = new Set([
  "sweep",
  "jobs",
  "usage",
  "hosts",
  "operators",
  "config",
  "backups",
  "backup",
  "restore",
  "move",
]);

type Kind = "preview" | "up" | "refresh" | "drift";

export async function main(argv: string[], signal?: AbortSignal): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      all: { type: "boolean" },
      ...STANDARD_OPTIONS,
      yes: { type: "boolean", short: "y" },
      "expect-no-changes": { type: "boolean" },
      "keep-stack": { type: "boolean" },
      "probe-drift": { type: "boolean" },
      color: { type: "string" },
      "no-color": { type: "boolean" },
    },
  });
  const [command = "", ...rest] = positionals;
  // `state` has subcommands: `state rebuild <tenant>`.
  if (command === "state" && !values.help && rest.shift() !== "rebuild")
    throw new UsageError("state needs a subcommand: state rebuild <tenant>");
  const [target] = rest;
  if (values.help || command === "help") {
    process.stdout.write(`${HELP[command === "help" ? (target ?? "") : command] ?? HELP[""]}\n`);
    return EXIT.ok;
  }
  if (command === "") throw new UsageError("name a command");
  if (!(command in HELP) || ELSEWHERE.has(command)) throw new UsageError(`unknown command ${command}`);
  const json = Boolean(values.json);
  const style: Style = { color: !json && colorEnabled(process.stdout, process.env, colorFlag(values)) };
  const probe = Boolean(values["probe-drift"]);
  if (command === "keys") {
    if (target !== "portal") throw new UsageError("keys takes one argument: portal");
    return printPortalKeys(json);
  }
  const expectNoChanges = Boolean(values["expect-no-changes"]);
  if (command === "apply" && !target) throw new UsageError("apply needs a spec file");
  if (command !== "list" && command !== "apply" && !target && !values.all)
    throw new UsageError("name a tenant (or use --all where the command allows it)");
  if (command === "destroy" && !values.yes && !process.stdin.isTTY)
    throw new UsageError("destroy needs --yes when stdin is not a terminal");
  const settings = loadAutomationSettings();
  // Tenant leases and shared stack config live in the platform database (the embedded one unless DATABASE_URL).
  const database = await openDatabase(loadDatabaseSettings(), { maxConnections: 1 });
  const { ops, close } = await startCommandOperations(settings, database).catch(async (error) => {
    await database.close();
    throw error;
  });
  try {
    switch (command) {
      case "list":
        return await list(ops, json);
      case "outputs":
      case "history": {
        const tenant = requireTenant(target);
        const data =
          command === "outputs" ? await ops.stacks.outputs(tenant) : await ops.stacks.history(tenant);
        process.stdout.write(`${json ? JSON.stringify(data) : JSON.stringify(data, null, 2)}\n`);
        return EXIT.ok;
      }
      case "apply": {
        const spec = JSON.parse(readFileSync(String(target), "utf8")) as Record<string, unknown>;
        const tenant = String(spec.slug);
        const result = await withStatus(tenant, "apply", json, (onProgress) =>
          ops.pool.apply(spec as never, ops.secrets(), { onProgress, probeDrift: probe, signal }),
        );
        return report([result], json, style, false, expectNoChanges);
      }
      case "state": {
        const tenant = requireTenant(target);
        const result = await withStatus(tenant, "rebuild", json, (onProgress) =>
          ops.pool.run("rebuild", tenant, { onProgress, signal }),
        );
        return report([result], json, style, false, false);
      }
      case "destroy": {
        const tenant = requireTenant(target);
        if (!values.yes && !(await confirm(tenant))) {
          process.stderr.write("destroy cancelled\n");
          return EXIT.cancelled;
        }
        const result = await withStatus(tenant, "destroy", json, (onProgress) =>
          ops.pool.destroy(tenant, { removeStack: !values["keep-stack"], onProgress, signal }),
        );
        return report([result], json, style, false, false);
      }
      default: {
        if (command === "drift" && values.all) {
          const results = await driftAll(ops, signal);
          return report(results, json, style, false, expectNoChanges);
        }
        const kind: Kind = command === "diff" ? "preview" : (command as Kind);
        const tenants = values.all ? (await ops.stacks.list()).map((s) => s.tenant) : [requireTenant(target)];
        const status = json ? undefined : new LiveStatus();
        const results = await Promise.all(
          tenants.map(async (tenant) => {
            const result = await ops.pool.run(kind, tenant, {
              onProgress: counter(status, tenant, kind),
              probeDrift: probe,
              signal,
            });
            status?.done(tenant, `${result.status}, ${renderChanges(result.changes)}`);
            if (kind === "drift") ops.recordDrift(tenant, result);
            return result;
          }),
        );
        status?.stop();
        return report(results, json, style, command === "diff", expectNoChanges);
      }
    }
  } finally {
    await close();
    await database.close();
  }
}

/**
 * Every tenant's drift: the batched check first (one pass over the checkpoints, a few SSH sessions
 * per host), then the single-tenant drift through the pool for what it found or could not decide.
 * Progress (`drift N/M`) goes to stderr; the results are what `drift <tenant>` gives, in list order.
 */
async function driftAll(ops: Operations, signal: AbortSignal | undefined): Promise<OperationResult[]> {
  const tenants = (await ops.stacks.list()).map((s) => s.tenant);
  const progress = new TenantTally("drift", tenants.length);
  const record = (result: OperationResult) => {
    ops.recordDrift(result.tenant, result);
    progress.done(result);
  };
  const batch = await ops.batchedDrift(tenants, record);
  const single = await Promise.all(
    batch.undecided.map(async (tenant) => {
      const result = await ops.pool.run("drift", tenant, { signal });
      record(result);
      return result;
    }),
  );
  progress.stop();
  process.stderr.write(
    `drift: ${batch.clean.size} of ${tenants.length} tenants found clean in one pass (${batch.sessions} SSH sessions); ${batch.undecided.length} checked one by one\n`,
  );
  const byTenant = new Map([...batch.clean, ...single.map((r) => [r.tenant, r] as const)]);
  return tenants.flatMap((t) => byTenant.get(t) ?? []);
}

function requireTenant(target: string | undefined): string {
  if (!target) throw new UsageError("name a tenant (or use --all where the command allows it)");
  return target;
}

/** Counts finished (or planned) resources on the tenant's status line, against the plan's total when known. */
function counter(status: LiveStatus | undefined, tenant: string, label: string): (e: ProgressEvent) => void {
  let done = 0;
  let total: number | undefined;
  status?.update(tenant, `${label}…`);
  return (e) => {
    if (e.type === "plan") total = e.total;
    if (e.type === "resource.done" || e.type === "resource.planned") {
      done++;
      status?.update(tenant, `${label}: ${done}${total ? `/${Math.max(total, done)}` : ""} resources`);
    }
  };
}

async function withStatus(
  tenant: string,
  label: string,
  json: boolean,
  run: (onProgress: (e: ProgressEvent) => void) => Promise<OperationResult>,
): Promise<OperationResult> {
  const status = json ? undefined : new LiveStatus();
  const result = await run(counter(status, tenant, label));
  status?.done(tenant, `${result.status}, ${renderChanges(result.changes)}`);
  status?.stop();
  return result;
}

function report(
  results: readonly OperationResult[],
  json: boolean,
  style: Style,
  details: boolean,
  expectNoChanges: boolean,
): number {
  if (json) process.stdout.write(`${JSON.stringify(results.length === 1 ? results[0] : results)}\n`);
  else for (const r of results) process.stdout.write(`${renderResult(style, r, details)}\n`);
  return combineExitCodes(results.map((r) => exitCodeForResult(r, expectNoChanges)));
}

async function list(ops: Operations, json: boolean): Promise<number> {
  const rows = await ops.overview();
  if (json) {
    process.stdout.write(`${JSON.stringify(rows)}\n`);
    return EXIT.ok;
  }
  process.stdout.write(
    `${renderTable(
      ["TENANT", "TIER", "STATUS", "HOST", "LAST UPDATE", "DRIFT"],
      rows.map((r) => [
        r.tenant,
        r.tier ?? "-",
        r.status ?? "-",
        r.host ?? "-",
        r.lastUpdate ?? "-",
        r.drift ?? "unchecked",
      ]),
    )}\n`,
  );
  return EXIT.ok;
}

async function confirm(tenant: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  const answer = await rl.question(
    `This deletes tenant ${tenant} and its data (after a final backup). Type the tenant name to confirm: `,
  );
  rl.close();
  return answer.trim() === tenant;
}

if (import.meta.main) {
  // Ctrl-C (or SIGTERM) cancels the running operations gracefully; a second one stops at once.
  const controller = new AbortController();
  for (const name of ["SIGINT", "SIGTERM"] as const) {
    process.once(name, () => {
      process.stderr.write("mindroom-ops: cancelling (again to stop at once)\n");
      controller.abort();
      process.once(name, () => process.exit(EXIT.cancelled));
    });
  }
  main(process.argv.slice(2), controller.signal).then(
    // Exit explicitly: a dependency's exit hook otherwise resets the code to 0.
    (code) => process.exit(code),
    (error: Error) => {
      const code = exitCodeForError(error);
      const hint = code === EXIT.usage ? "\nRun 'mindroom-ops --help' for usage." : "";
      const style = { color: colorEnabled(process.stderr, process.env, argvColorFlag(process.argv)) };
      process.stderr.write(`mindroom-ops: ${paint(style, "red", "error:")} ${error.message}${hint}\n`);
      process.exit(code);
    },
  );
}
