/**
 * Measurement 2: the floor. The very scripts a tenant's `up` ran (the `create`
 * input of every `command:remote:Command`, taken from the stack's checkpoint,
 * in checkpoint order, which the engine keeps topologically sorted, so every
 * script runs after the ones it depends on), rewritten for a fresh slug so they
 * do the same work again, and run back-to-back by a plain script:
 *   - over ONE SSH connection (`ssh … sh -s`, the scripts concatenated): the floor;
 *   - and, to price the SSH handshake the provider pays per command, once more
 *     with one connection per command, sequentially, as the provider runs them.
 * Secret stdin (the apps' config JSON) is fed exactly as the provider feeds it:
 * to that script's standard input (a here-document in the one-connection run).
 */
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { pulumiCommand, pulumiEnv } from "../automation/pulumiToolchain.ts";
import type { AutomationSettings } from "../automation/settings.ts";
import { parseSlug, tenantNames } from "../components/tenantNames.ts";
import { SAMPLE_IMAGES } from "../testing/tenantSamples.ts";
import { type Bench, BenchFailure, hostBusyMs, now } from "./harness.ts";

const run = promisify(execFile);

export interface RemoteScript {
  /** Resource name (the URN's last part), e.g. `tenant-runtime-config`. */
  readonly name: string;
  readonly create: string;
  readonly stdin?: string;
  readonly delete?: string;
}

export interface FloorRun {
  readonly slug: string;
  readonly ms: number;
  readonly dokkuCommands: number;
  readonly hostMs: number;
}

export interface FloorResult {
  readonly scripts: number;
  readonly withStdin: number;
  readonly oneConnection: FloorRun;
  readonly connectionPerCommand: FloorRun;
}

/** The create scripts of a tenant's stack, from its checkpoint (secrets decrypted, as `up` feeds them). */
export async function remoteScripts(settings: AutomationSettings, slug: string): Promise<RemoteScript[]> {
  const { command } = await pulumiCommand();
  const { stdout } = await run(
    command,
    ["stack", "export", "--show-secrets", "--stack", slug, "--non-interactive"],
    {
      // The tenant's workspace folder holds the Pulumi.yaml the automation layer wrote.
      cwd: join(settings.workspacesDir, slug),
      env: {
        ...process.env,
        ...pulumiEnv(),
        ...settings.backendEnv,
        ...settings.secretsEnv,
        PULUMI_BACKEND_URL: settings.backendUrl,
      },
      maxBuffer: 64 << 20,
    },
  );
  const deployment = JSON.parse(stdout) as {
    deployment?: { resources?: { urn: string; type: string; inputs?: Record<string, unknown> }[] };
  };
  const scripts: RemoteScript[] = [];
  for (const r of deployment.deployment?.resources ?? []) {
    if (r.type !== "command:remote:Command") continue;
    const create = plain(r.inputs?.create);
    if (create === undefined) throw new BenchFailure(`${r.urn} has no create script in the checkpoint`);
    const stdin = plain(r.inputs?.stdin);
    const del = plain(r.inputs?.delete);
    scripts.push({
      name: r.urn.split("::").pop() ?? r.urn,
      create,
      ...(stdin !== undefined ? { stdin } : {}),
      ...(del !== undefined ? { delete: del } : {}),
    });
  }
  if (scripts.length === 0) throw new BenchFailure(`no remote commands in the checkpoint of ${slug}`);
  return scripts;
}

/** A checkpoint value: a string, or (with --show-secrets) a secret envelope whose `plaintext` is JSON. */
function plain(value: unknown): string | undefined {
  if (typeof value === "string") return value;
  if (value && typeof value === "object" && "plaintext" in value) {
    const decoded: unknown = JSON.parse(String((value as { plaintext: unknown }).plaintext));
    return typeof decoded === "string" ? decoded : undefined;
  }
  return undefined;
}

/**
 * The same scripts for another tenant: every name a tenant owns ends with its
 * slug (`mr-<slug>`, `<slug>.mindroom.test`, …), so the slug as a whole word is
 * all that changes.
 */
export function forSlug(scripts: readonly RemoteScript[], from: string, to: string): RemoteScript[] {
  const word = new RegExp(`(?<![a-z0-9])${from.replaceAll("-", "\\-")}(?![a-z0-9])`, "g");
  const swap = (text: string) => text.replace(word, to);
  return scripts.map((s) => ({
    name: s.name,
    create: swap(s.create),
    ...(s.stdin !== undefined ? { stdin: swap(s.stdin) } : {}),
    ...(s.delete !== undefined ? { delete: swap(s.delete) } : {}),
  }));
}

const EOF_MARK = "__MINDROOM_BENCH_STDIN__";

/**
 * One shell script running `parts` in order, each in its own subshell (each
 * `set -e`s itself, as it does under the provider) with its own stdin: the
 * here-document for scripts that read secrets, /dev/null for the rest, so no
 * script can swallow the rest of this script from `sh -s`'s stdin. A failing
 * part stops the whole run (the outer `set -e`); the marker on stderr names it.
 */
export function concatenate(parts: readonly { name: string; script: string; stdin?: string }[]): string {
  const lines = ["set -e"];
  for (const p of parts) {
    if (p.stdin?.includes(EOF_MARK))
      throw new BenchFailure(`stdin of ${p.name} contains the here-document marker`);
    lines.push(`echo '@@bench ${p.name}' >&2`);
    if (p.stdin === undefined) lines.push(`(\n${p.script}\n) </dev/null`);
    else lines.push(`(\n${p.script}\n) <<'${EOF_MARK}'\n${p.stdin}\n${EOF_MARK}`);
  }
  return `${lines.join("\n")}\n`;
}

export async function measureFloor(
  bench: Bench,
  settings: AutomationSettings,
  source: string,
  slugs: { oneConnection: string; connectionPerCommand: string },
): Promise<FloorResult> {
  const scripts = await remoteScripts(settings, source);
  bench.log(`floor: ${scripts.length} remote scripts from ${source}'s checkpoint`);

  const one = forSlug(scripts, source, slugs.oneConnection);
  bench.log(`floor: ${scripts.length} scripts over one SSH connection (${slugs.oneConnection})`);
  let start = now();
  const single = await bench.ssh(
    "sh -s",
    concatenate(
      one.map((s) => ({
        name: s.name,
        script: s.create,
        ...(s.stdin !== undefined ? { stdin: s.stdin } : {}),
      })),
    ),
  );
  let end = now();
  if (single.code !== 0)
    throw new BenchFailure(`floor run failed (exit ${single.code}) after:\n${single.stderr.slice(-2000)}`);
  const singleHost = await bench.hostCommands(start, end);
  await expectTenantOnHost(bench, slugs.oneConnection);

  const each = forSlug(scripts, source, slugs.connectionPerCommand);
  bench.log(`floor: ${scripts.length} scripts, one SSH connection each (${slugs.connectionPerCommand})`);
  start = now();
  for (const s of each) {
    // Like the provider: the script is the session's command (run by root's login shell), stdin piped in.
    const r = await bench.ssh(s.create, s.stdin ?? "");
    if (r.code !== 0)
      throw new BenchFailure(`floor script ${s.name} failed (exit ${r.code}): ${r.stderr.slice(-2000)}`);
  }
  end = now();
  const eachHost = await bench.hostCommands(start, end);
  await expectTenantOnHost(bench, slugs.connectionPerCommand);

  // Not timed: take both tenants down again with their delete scripts, last created first.
  for (const set of [one, each]) {
    const deletes = [...set].reverse().flatMap((s) => (s.delete ? [{ name: s.name, script: s.delete }] : []));
    const r = await bench.ssh("sh -s", concatenate(deletes));
    if (r.code !== 0)
      throw new BenchFailure(`floor clean-up failed (exit ${r.code}): ${r.stderr.slice(-2000)}`);
  }

  return {
    scripts: scripts.length,
    withStdin: scripts.filter((s) => s.stdin !== undefined).length,
    oneConnection: {
      slug: slugs.oneConnection,
      ms: single.ms,
      dokkuCommands: singleHost.length,
      hostMs: hostBusyMs(singleHost),
    },
    connectionPerCommand: {
      slug: slugs.connectionPerCommand,
      ms: end - start,
      dokkuCommands: eachHost.length,
      hostMs: hostBusyMs(eachHost),
    },
  };
}

/** The floor did the real work: the tenant's apps exist and run the pinned image. */
async function expectTenantOnHost(bench: Bench, slug: string): Promise<void> {
  const names = tenantNames(parseSlug(slug));
  const r = await bench.ssh(
    `dokku apps:exists ${names.homeserverApp} && dokku --quiet apps:report ${names.runtimeApp} --app-deploy-source-metadata`,
  );
  if (r.code !== 0 || r.stdout.trim() !== SAMPLE_IMAGES.runtime)
    throw new BenchFailure(`floor tenant ${slug} is not on the host as expected: ${r.stdout} ${r.stderr}`);
}
