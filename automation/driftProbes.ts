/**
 * Drift on a Dokku host, found by reading it. Remote commands cannot read back
 * what they did (a `refresh` never notices that someone ran `resource:limit` by
 * hand), so the desired state is taken from what each component recorded in the
 * stack, and checked with read-only Dokku commands. Each check names the
 * commands that put the state there: re-running exactly those repairs it.
 */
import { configDigest } from "../components/dokku/configDigest.ts";

/** A resource as the stack's checkpoint records it. */
export interface RecordedResource {
  readonly urn: string;
  readonly type: string;
  readonly inputs?: Record<string, unknown>;
}

export interface ProbeResult {
  readonly code: number;
  readonly stdout: string;
}

export interface Probe {
  /** Which component and aspect, e.g. `tenant-runtime: limits`. */
  readonly id: string;
  /** A read-only Dokku command (without the `dokku` word), run with `--quiet`. */
  readonly command: string;
  /** Resource names (URN suffixes) whose commands restore the expected state. */
  readonly repair: readonly string[];
  /** `undefined` when the host matches; otherwise what was expected and what was found. */
  check(result: ProbeResult): { expected: string; observed: string } | undefined;
}

export interface DriftFinding {
  readonly id: string;
  readonly expected: string;
  readonly observed: string;
  readonly repair: readonly string[];
}

const nameOf = (urn: string) => urn.split("::").pop() ?? urn;

const equals =
  (expected: string) =>
  ({ code, stdout }: ProbeResult) =>
    code === 0 && stdout.trim() === expected
      ? undefined
      : { expected, observed: code === 0 ? stdout.trim() : `exit ${code}` };

const succeeds =
  (what: string) =>
  ({ code }: ProbeResult) =>
    code === 0 ? undefined : { expected: what, observed: `missing (exit ${code})` };

function parseJson(stdout: string): unknown {
  try {
    return JSON.parse(stdout);
  } catch {
    return undefined;
  }
}

interface AppInputs {
  app: string;
  network: string;
  web?: { domains: string[] };
  storage: { entry: string }[];
  foreignMounts: { entry: string }[];
  resources: { memoryMb: number; cpus: number; reserveMemoryMb: number };
  image: string;
  scale: number;
  services: { kind: string; service: string }[];
  configKeys: string[];
  configDigest: string;
}

function appProbes(name: string, a: AppInputs): Probe[] {
  const r = (suffix: string) => `${name}-${suffix}`;
  const everything = [
    r("app"),
    r("settings"),
    r("config"),
    r("limits"),
    r("deploy"),
    r("scale"),
    ...a.services.map((s) => r(`link-${s.kind}`)),
  ];
  const probes: Probe[] = [
    {
      id: `${name}: app`,
      command: `apps:exists ${a.app}`,
      repair: everything,
      check: succeeds(`app ${a.app}`),
    },
    {
      id: `${name}: network`,
      command: `network:report ${a.app} --network-initial-network`,
      repair: [r("settings")],
      check: equals(a.network),
    },
    {
      id: `${name}: mounts`,
      command: `storage:list ${a.app} --format json`,
      repair: [r("settings")],
      check: ({ code, stdout }) => {
        const want = [...a.storage, ...a.foreignMounts]
          .map((m) => m.entry)
          .sort()
          .join(" ");
        const rows = parseJson(stdout);
        const got = Array.isArray(rows)
          ? rows
              .map((m: { entry_name?: string }) => m.entry_name ?? "?")
              .sort()
              .join(" ")
          : "";
        return code === 0 && got === want
          ? undefined
          : { expected: want, observed: code === 0 ? got : `exit ${code}` };
      },
    },
    {
      id: `${name}: limits`,
      command: `resource:report ${a.app} --format json`,
      repair: [r("limits")],
      check: ({ code, stdout }) => {
        const report = (parseJson(stdout) ?? {}) as Record<string, string>;
        const want = `memory=${a.resources.memoryMb} cpu=${a.resources.cpus} reserve=${a.resources.reserveMemoryMb}`;
        const got = `memory=${report["_default_.limit.memory"]} cpu=${report["_default_.limit.cpu"]} reserve=${report["_default_.reserve.memory"]}`;
        return code === 0 && got === want
          ? undefined
          : { expected: want, observed: code === 0 ? got : `exit ${code}` };
      },
    },
    {
      id: `${name}: config`,
      command: `config:export --format json ${a.app}`,
      repair: [r("config")],
      check: ({ code, stdout }) => {
        const all = (parseJson(stdout) ?? {}) as Record<string, string>;
        const managed = Object.fromEntries(
          a.configKeys.filter((k) => k in all).map((k) => [k, all[k] ?? ""]),
        );
        const missing = a.configKeys.filter((k) => !(k in all));
        if (code === 0 && missing.length === 0 && configDigest(managed) === a.configDigest) return undefined;
        // Never the values: they are secrets. Name the keys that differ in presence.
        const observed =
          code !== 0 ? `exit ${code}` : missing.length ? `missing ${missing.join(", ")}` : "values changed";
        return { expected: `the ${a.configKeys.length} managed variables as set`, observed };
      },
    },
    {
      id: `${name}: image`,
      command: `apps:report ${a.app} --app-deploy-source-metadata`,
      repair: [r("deploy")],
      check: equals(a.image),
    },
    {
      id: `${name}: scale`,
      command: `ps:scale ${a.app} --format json`,
      repair: [r("scale")],
      check: ({ code, stdout }) => {
        const rows = parseJson(stdout);
        const web = Array.isArray(rows)
          ? rows.find((x: { process_type?: string }) => x.process_type === "web")
          : undefined;
        const got = String((web as { quantity?: number } | undefined)?.quantity ?? "unset");
        return code === 0 && got === String(a.scale)
          ? undefined
          : { expected: `web=${a.scale}`, observed: `web=${got}` };
      },
    },
    ...a.services.map(
      (s): Probe => ({
        id: `${name}: ${s.kind} link`,
        command: `${s.kind}:linked ${s.service} ${a.app}`,
        repair: [r(`link-${s.kind}`)],
        check: succeeds(`${s.service} linked to ${a.app}`),
      }),
    ),
  ];
  if (a.web) {
    probes.push({
      id: `${name}: domains`,
      command: `domains:report ${a.app} --domains-app-vhosts`,
      repair: [r("settings")],
      check: equals(a.web.domains.join(" ")),
    });
  }
  for (const entry of a.storage.map((s) => s.entry)) {
    probes.push({
      id: `${name}: storage ${entry}`,
      command: `storage:info ${entry} --format json`,
      repair: [r(`storage-${entry}`), r("settings")],
      check: succeeds(`storage entry ${entry}`),
    });
  }
  return probes;
}

/** Every check the recorded components call for. */
export function driftProbes(resources: readonly RecordedResource[]): Probe[] {
  const probes: Probe[] = [];
  for (const res of resources) {
    const name = nameOf(res.urn);
    const i = (res.inputs ?? {}) as Record<string, unknown>;
    switch (res.type) {
      case "mindroom:dokku:Network":
        probes.push({
          id: `${name}: network`,
          command: `network:exists ${String(i.network)}`,
          repair: [`${name}-network`],
          check: succeeds(`network ${String(i.network)}`),
        });
        break;
      case "mindroom:dokku:Service":
        probes.push({
          id: `${name}: service`,
          command: `${String(i.kind)}:exists ${String(i.service)}`,
          repair: [`${name}-service`],
          check: succeeds(`${String(i.kind)} service ${String(i.service)}`),
        });
        break;
      case "mindroom:dokku:App":
        probes.push(...appProbes(name, i as unknown as AppInputs));
        break;
      case "mindroom:dokku:Tls":
        probes.push(
          i.mode === "letsencrypt"
            ? {
                id: `${name}: letsencrypt`,
                command: `letsencrypt:active ${String(i.app)}`,
                repair: [`${name}-letsencrypt`],
                check: equals("true"),
              }
            : {
                id: `${name}: certificate`,
                command: `certs:report ${String(i.app)} --ssl-enabled`,
                repair: [`${name}-certificate`],
                check: equals("true"),
              },
        );
        break;
      case "mindroom:dokku:ServiceBackup":
        probes.push({
          id: `${name}: schedule`,
          command: `${String(i.kind)}:backup-schedule-cat ${String(i.service)}`,
          repair: [`${name}-schedule`],
          check: ({ code, stdout }) =>
            code === 0 && stdout.includes(String(i.schedule))
              ? undefined
              : {
                  expected: `backups at ${String(i.schedule)}`,
                  observed: code === 0 ? stdout.trim() : "no schedule",
                },
        });
        break;
      default:
        break;
    }
  }
  return probes;
}

export function findings(probes: readonly Probe[], results: readonly ProbeResult[]): DriftFinding[] {
  return probes.flatMap((probe, i) => {
    const result = results[i] ?? { code: -1, stdout: "" };
    const diff = probe.check(result);
    return diff ? [{ id: probe.id, ...diff, repair: probe.repair }] : [];
  });
}

/** New repair tokens for every resource a finding names, added to the existing ones. */
export function repairTokens(
  existing: Readonly<Record<string, string>>,
  found: readonly DriftFinding[],
  token: string,
): Record<string, string> {
  const next = { ...existing };
  for (const f of found) for (const name of f.repair) next[name] = token;
  return next;
}
