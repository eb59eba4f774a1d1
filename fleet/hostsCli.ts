/**
 * `mindroom-ops hosts …`: the Dokku hosts tenants live on, kept in the platform
 * database (bin/mindroom-ops dispatches here).
 *
 * Exit codes as the other commands' (automation/cli/exitCodes.ts): 0 success,
 * 1 error (a refused host key included), 2 usage error (a key to confirm without
 * a terminal included), 6 no such host, 8 cancelled (the key was not confirmed).
 */
import { readFileSync } from "node:fs";
import { createInterface } from "node:readline/promises";
import { parseArgs } from "node:util";
import { renderResult, renderTable } from "../automation/cli/render.ts";
import { STANDARD_OPTIONS } from "../automation/cli/standardOptions.ts";
import { fingerprint } from "../automation/hostProbe.ts";
import { loadAutomationSettings } from "../automation/settings.ts";
import { audit, cliOperator } from "../database/auditLog.ts";
import { openDatabase } from "../database/connection.ts";
import {
  type Host,
  HostNotFoundError,
  type HostSchedule,
  isSchedulable,
  listHosts,
  removeHost,
  setHostSchedule,
  tenantsOnHost,
} from "../database/hosts.ts";
import { loadDatabaseSettings } from "../database/settings.ts";
import { transaction } from "../database/transaction.ts";
import { runHostStack } from "./hostStacks.ts";
import { addHost, checkHost, normalizeHostUrl } from "./hosts.ts";

export const HOSTS_HELP = `Usage: mindroom-ops hosts <command> [options]

The Dokku hosts tenants are placed on, kept in the platform database.

Commands:
  list                         every host: address, capacity, schedule, readiness, tenants
  add <ssh://root@host[:port]> pin the host's key (shown for confirmation on first use),
                               measure its capacity and check it has what tenants need
      [--fingerprint SHA256:…] the key must have this fingerprint (no prompt)
      [--yes]                  trust the key the host presents now without a prompt
      [--address A] [--proxied] public address for DNS (default: the URL's host);
                               whether DNS goes through Cloudflare's proxy
      [--memory-mb N] [--cpus N] capacity for tenants instead of the measured one
  check <url>                  check a host again (over its pinned key) and record the result
  preview <url>                what the host's stack (plugins, renewal cron, global settings) would change
  up <url>                     install and verify what tenants need, then check the host again
  cordon <url> [--reason R]    no new tenants on the host; its tenants stay
  uncordon <url>               take new tenants again
  drain <url> [--reason R]     cordon, and list the tenants that must move off it
  remove <url>                 forget a host that no tenant lives on

Options: --json (machine-readable output), --help.
Exit codes: 0 success, 1 error (a refused host key included), 2 usage error (a key to
confirm without a terminal: pass --fingerprint or --yes), 6 no such host, 8 cancelled (the key
shown was not confirmed). Configuration: DATABASE_URL, DOKKU_SSH_KEY, MINDROOM_OPERATOR (audit name).`;

export class HostsUsageError extends Error {}

function readiness(host: Host): string {
  if (!host.readiness) return "unchecked";
  return host.readiness.ready ? "ready" : `${host.readiness.problems.length} problem(s)`;
}

function hostView(host: Host, tenants: readonly string[]) {
  return {
    ...host,
    fingerprint: host.hostKey ? fingerprint(host.hostKey) : null,
    schedulable: isSchedulable(host),
    tenants,
  };
}

async function confirmKey(url: string, key: string, print: string): Promise<boolean> {
  if (!process.stdin.isTTY)
    throw new HostsUsageError(
      `the host key of ${url} (${print}) must be confirmed and there is no terminal to ask in: nothing was added. Compare it with ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub on the host, then pass --fingerprint ${print}`,
    );
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  const answer = await rl.question(
    `${url} presents the host key ${key.split(" ")[0]} ${print}.\nCompare it with \`ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub\` on the host. Pin it? [y/N] `,
  );
  rl.close();
  return /^y(es)?$/i.test(answer.trim());
}

export async function hostsMain(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      ...STANDARD_OPTIONS,
      yes: { type: "boolean", short: "y" },
      fingerprint: { type: "string" },
      address: { type: "string" },
      proxied: { type: "boolean" },
      "memory-mb": { type: "string" },
      cpus: { type: "string" },
      reason: { type: "string" },
    },
  });
  const [command = "", target] = positionals;
  if (values.help || command === "") {
    process.stdout.write(`${HOSTS_HELP}\n`);
    return command === "" && !values.help ? 2 : 0;
  }
  const positive = (name: string, raw: string | undefined) => {
    if (raw === undefined) return undefined;
    const n = Number(raw);
    if (!(n > 0)) throw new HostsUsageError(`--${name} must be a positive number, got ${raw}`);
    return n;
  };
  const memoryMb = positive("memory-mb", values["memory-mb"]);
  const cpus = positive("cpus", values.cpus);
  if (command !== "list" && !target) throw new HostsUsageError(`hosts ${command} needs a host URL`);
  const url = target ? normalizeHostUrl(target) : "";
  const actor = cliOperator();
  const database = await openDatabase(loadDatabaseSettings(), { maxConnections: 2 });
  const pool = database.pool;
  const out = (data: unknown, text: string) =>
    process.stdout.write(values.json ? `${JSON.stringify(data, null, 2)}\n` : `${text}\n`);
  const privateKey = () => {
    const path = loadAutomationSettings().sshKeyPath;
    if (!path) throw new Error("DOKKU_SSH_KEY is not set: point it at the private key for the Dokku hosts");
    return readFileSync(path, "utf8");
  };
  try {
    switch (command) {
      case "list": {
        const hosts = await listHosts(pool);
        const views = await Promise.all(
          hosts.map(async (h) => hostView(h, await tenantsOnHost(pool, h.url))),
        );
        out(
          views,
          renderTable(
            ["HOST", "ADDRESS", "MEMORY", "CPUS", "SCHEDULE", "READINESS", "TENANTS", "KEY"],
            views.map((h) => [
              h.url,
              h.address,
              `${h.memoryMb} MB`,
              String(h.cpus),
              h.schedule,
              readiness(h),
              String(h.tenants.length),
              h.fingerprint ?? "not pinned",
            ]),
          ),
        );
        return 0;
      }
      case "add": {
        const added = await addHost(pool, {
          url,
          ...(values.address ? { address: values.address } : {}),
          ...(values.proxied ? { proxied: true } : {}),
          ...(memoryMb ? { memoryMb: Math.floor(memoryMb) } : {}),
          ...(cpus ? { cpus } : {}),
          ...(values.fingerprint ? { fingerprint: values.fingerprint } : {}),
          confirm: (key, print) => (values.yes ? Promise.resolve(true) : confirmKey(url, key, print)),
          privateKey: privateKey(),
          actor,
        });
        const { host, probe } = added;
        out(
          { ...hostView(host, []), pinned: added.pinned, totalMemoryMb: probe.capacity.totalMemoryMb },
          [
            `${added.pinned === "new" ? "added" : "checked again"} ${host.url}, host key ${fingerprint(host.hostKey ?? "")} pinned`,
            `  capacity  ${host.memoryMb} MB of ${probe.capacity.totalMemoryMb} MB for tenants, ${host.cpus} cores`,
            `  dokku     ${probe.readiness.dokkuVersion ?? "not found"}; plugins ${
              Object.entries(probe.readiness.plugins)
                .map(([n, v]) => `${n} ${v}`)
                .join(", ") || "none"
            }`,
            probe.readiness.ready
              ? "  ready     new tenants may be placed here"
              : `  not ready (no tenants are placed here until it is):\n${probe.readiness.problems.map((p) => `    - ${p}`).join("\n")}`,
          ].join("\n"),
        );
        return 0;
      }
      case "check": {
        const { host, probe } = await checkHost(pool, url, privateKey(), actor);
        out(
          hostView(host, await tenantsOnHost(pool, host.url)),
          probe.readiness.ready
            ? `${host.url} is ready`
            : `${host.url} is not ready:\n${probe.readiness.problems.map((p) => `  - ${p}`).join("\n")}`,
        );
        return probe.readiness.ready ? 0 : 1;
      }
      case "preview":
      case "up": {
        const { result, host } = await runHostStack(pool, loadAutomationSettings(), url, command, actor);
        const style = { color: !values.json && Boolean(process.stdout.isTTY) };
        out(
          {
            result,
            host: command === "up" ? hostView(host, await tenantsOnHost(pool, host.url)) : undefined,
          },
          `${renderResult(style, result, command === "preview")}${
            command === "up" && result.status === "succeeded"
              ? `\n${host.url} is ${host.readiness?.ready ? "ready: new tenants may be placed here" : `not ready:\n${(host.readiness?.problems ?? []).map((p) => `  - ${p}`).join("\n")}`}`
              : ""
          }`,
        );
        return result.status === "succeeded" ? 0 : 1;
      }
      case "cordon":
      case "uncordon":
      case "drain": {
        const schedule: HostSchedule =
          command === "cordon" ? "cordoned" : command === "drain" ? "draining" : "active";
        const reason = values.reason ?? null;
        const host = await transaction(pool, async (tx) => {
          const saved = await setHostSchedule(tx, url, schedule, schedule === "active" ? null : reason);
          await audit(tx, { actor, action: `host.${command}`, reason, details: { url } });
          return saved;
        });
        const tenants = await tenantsOnHost(pool, url);
        const text =
          command === "drain"
            ? tenants.length === 0
              ? `${url} is drained: no tenants left, remove it with mindroom-ops hosts remove ${url}`
              : `${url} takes no new tenants; ${tenants.length} must move off it:\n${tenants.map((t) => `  ${t}`).join("\n")}`
            : `${url} is ${schedule}${schedule === "active" ? "" : " (its tenants stay)"}`;
        out(hostView(host, tenants), text);
        return 0;
      }
      case "remove": {
        await transaction(pool, async (tx) => {
          await removeHost(tx, url);
          await audit(tx, { actor, action: "host.removed", details: { url } });
        });
        out({ removed: url }, `removed ${url}`);
        return 0;
      }
      default:
        throw new HostsUsageError(`unknown hosts command ${command}`);
    }
  } catch (error) {
    if (error instanceof HostNotFoundError) {
      process.stderr.write(`mindroom-ops: ${error.message}\n`);
      return 6;
    }
    throw error;
  } finally {
    await database.close();
  }
}
