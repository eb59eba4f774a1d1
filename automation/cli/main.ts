/**
 * mindroom-ops: the operator CLI for tenant stacks. Every command goes through
 * the automation layer (worker pool, tenant locks, policy pack); nothing here
 * talks to Pulumi directly.
 *
 * Exit codes: 0 success (drift: none found), 1 error, 2 drift found (drift) or
 * usage error (any other command), 3 aborted by the operator.
 */
import { readFileSync } from "node:fs";
import { createInterface } from "node:readline/promises";
import { parseArgs } from "node:util";
import { openObjectStore } from "../../object-store/server.ts";
import type { OperationResult } from "../operationResult.ts";
import { Operations } from "../operations.ts";
import type { ProgressEvent } from "../progress.ts";
import { loadAutomationSettings } from "../settings.ts";
import { LiveStatus, renderChanges, renderResult, renderTable, type Style } from "./render.ts";

const HELP: Record<string, string> = {
  "": `mindroom-ops: operate MindRoom Cloud tenant stacks

Usage: mindroom-ops <command> [options]

Commands:
  list                       every tenant: tier, status, host, last update, drift
  preview <tenant>|--all     what an up would change (Pulumi-style plan)
  diff <tenant>              the plan with every changed property
  drift <tenant>|--all       what changed outside Pulumi (exit 0 none, 2 drift, 1 error)
  up <tenant>|--all          bring the stack up to its spec, repairing recorded drift
  apply <spec.json>          create or update a tenant from a spec file, then up
  refresh <tenant>           refresh the stack's state from its providers
  destroy <tenant> [--yes]   final backup, delete everything, remove the stack
  outputs <tenant>           the stack outputs
  history <tenant>           past operations on the stack
  backups <tenant>           the tenant's backups (time, part, size); backup <tenant> takes one
  restore <tenant>           suspend, restore storage and databases from a backup, resume
  hosts, sweep, jobs         the Dokku host pool; the Stripe sweep; reconcile jobs

Options: --json (machine-readable output), --help (per command), --no-color.
Configuration: MINDROOM_DATA_DIR, PULUMI_BACKEND_URL, PULUMI_CONFIG_PASSPHRASE, DOKKU_SSH_KEY,
MINDROOM_AUTOMATION_WORKERS (see README.md).`,
  list: "Usage: mindroom-ops list [--json]\n\nOne row per tenant stack: tenant, tier, status, host, last update, drift (from the last drift check).",
  preview:
    "Usage: mindroom-ops preview <tenant>|--all [--json]\n\nRuns a preview (with the policy pack) and prints what an up would change.",
  diff: "Usage: mindroom-ops diff <tenant> [--json]\n\nLike preview, with every changed property of every resource.",
  drift:
    "Usage: mindroom-ops drift <tenant>|--all [--json]\n\nChecks each tenant's Dokku host and providers against the stack.\nExit code: 0 no drift, 2 drift found, 1 error.",
  up: "Usage: mindroom-ops up <tenant>|--all [--probe-drift] [--json]\n\nRuns an up with the policy pack. It repairs the drift the last `drift` of the tenant found;\n--probe-drift checks the Dokku host first and repairs what it finds (a few seconds more).",
  apply:
    "Usage: mindroom-ops apply <spec.json> [--probe-drift] [--json]\n\nWrites the tenant's full config from the spec (secrets from the platform settings), then runs an up.",
  refresh: "Usage: mindroom-ops refresh <tenant> [--json]",
  destroy:
    "Usage: mindroom-ops destroy <tenant> [--yes] [--keep-stack] [--json]\n\nRuns the final backup, deletes every resource and removes the stack. Asks for the tenant name unless --yes.",
  outputs: "Usage: mindroom-ops outputs <tenant> [--json]",
  history: "Usage: mindroom-ops history <tenant> [--json]",
};

class UsageError extends Error {}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      all: { type: "boolean" },
      json: { type: "boolean" },
      yes: { type: "boolean" },
      "keep-stack": { type: "boolean" },
      "probe-drift": { type: "boolean" },
      help: { type: "boolean", short: "h" },
      "no-color": { type: "boolean" },
    },
  });
  const [command = "", target] = positionals;
  if (values.help || command === "help" || command === "") {
    process.stdout.write(`${HELP[command === "help" ? (target ?? "") : command] ?? HELP[""]}\n`);
    return command === "" && !values.help ? 2 : 0;
  }
  if (!(command in HELP)) throw new UsageError(`unknown command ${command}`);
  const style: Style = { color: !values["no-color"] && !values.json && Boolean(process.stdout.isTTY) };
  const json = Boolean(values.json);
  const probe = Boolean(values["probe-drift"]);
  const settings = loadAutomationSettings();
  // The state lives in the data folder's object store: serve it for this command if the platform is down.
  const store = settings.localObjectStore ? await openObjectStore(settings.localObjectStore) : undefined;
  const ops = await Operations.start(settings).catch(async (error) => {
    await store?.stop();
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
        return 0;
      }
      case "apply": {
        if (!target) throw new UsageError("apply needs a spec file");
        const spec = JSON.parse(readFileSync(target, "utf8")) as Record<string, unknown>;
        const tenant = String(spec.slug);
        const result = await withStatus(tenant, "apply", json, (onProgress) =>
          ops.pool.apply(spec as never, ops.secrets(), { onProgress, probeDrift: probe }),
        );
        return report([result], json, style, false);
      }
      case "destroy": {
        const tenant = requireTenant(target);
        if (!values.yes && !(await confirm(tenant))) {
          process.stderr.write("destroy aborted\n");
          return 3;
        }
        const result = await withStatus(tenant, "destroy", json, (onProgress) =>
          ops.pool.destroy(tenant, { removeStack: !values["keep-stack"], onProgress }),
        );
        return report([result], json, style, false);
      }
      default: {
        const kind = command === "diff" ? "preview" : (command as "preview" | "up" | "refresh" | "drift");
        const tenants = values.all ? (await ops.stacks.list()).map((s) => s.tenant) : [requireTenant(target)];
        const status = json ? undefined : new LiveStatus();
        const results = await Promise.all(
          tenants.map(async (tenant) => {
            const result = await ops.pool.run(kind, tenant, {
              onProgress: counter(status, tenant, kind),
              probeDrift: probe,
            });
            status?.done(tenant, `${result.status}, ${renderChanges(result.changes)}`);
            if (kind === "drift") ops.recordDrift(tenant, result);
            return result;
          }),
        );
        status?.stop();
        const code = report(results, json, style, command === "diff");
        if (kind === "drift" && code === 0)
          return results.some((r) => (r.drift?.length ?? 0) > 0 || hasChanges(r)) ? 2 : 0;
        return code;
      }
    }
  } finally {
    await ops.close();
    await store?.stop();
  }
}

function requireTenant(target: string | undefined): string {
  if (!target) throw new UsageError("name a tenant (or use --all where the command allows it)");
  return target;
}

function hasChanges(result: OperationResult): boolean {
  return Object.entries(result.changes).some(([op, n]) => op !== "same" && n > 0);
}

/** Counts finished (or planned) resources on the tenant's status line. */
function counter(status: LiveStatus | undefined, tenant: string, label: string): (e: ProgressEvent) => void {
  let done = 0;
  status?.update(tenant, `${label}…`);
  return (e) => {
    if (e.type === "resource.done" || e.type === "resource.planned")
      status?.update(tenant, `${label}: ${++done} resources`);
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

function report(results: readonly OperationResult[], json: boolean, style: Style, details: boolean): number {
  if (json) process.stdout.write(`${JSON.stringify(results.length === 1 ? results[0] : results)}\n`);
  else for (const r of results) process.stdout.write(`${renderResult(style, r, details)}\n`);
  return results.every((r) => r.status === "succeeded") ? 0 : 1;
}

async function list(ops: Operations, json: boolean): Promise<number> {
  const rows = await ops.overview();
  if (json) {
    process.stdout.write(`${JSON.stringify(rows)}\n`);
    return 0;
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
  return 0;
}

async function confirm(tenant: string): Promise<boolean> {
  if (!process.stdin.isTTY) {
    process.stderr.write(`destroy needs --yes when stdin is not a terminal\n`);
    return false;
  }
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  const answer = await rl.question(
    `This deletes tenant ${tenant} and its data (after a final backup). Type the tenant name to confirm: `,
  );
  rl.close();
  return answer.trim() === tenant;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: Error) => {
    process.stderr.write(`mindroom-ops: ${error.message}\n`);
    process.exit(error instanceof UsageError || error.name === "TypeError" ? 2 : 1);
  },
);
