/**
 * The benchmark's process environment, and what the results must record to be
 * comparable: the machine, its load, the toolchain and the commit.
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { cpus, loadavg, release, totalmem } from "node:os";
import { join, resolve } from "node:path";
import { pulumiEnv, toolsDir } from "../automation/pulumiToolchain.ts";

const REPO_ROOT = resolve(import.meta.dirname, "..");

/**
 * What toolchain/env.sh does, for `npm run bench` from a shell that did not
 * source it: the automation layer's workspaces run `pulumi` from PATH. And
 * the operator's own Pulumi and MindRoom settings are dropped, so the run uses
 * only its private backend, passphrase and host.
 */
export function prepareEnvironment(): void {
  const tools = toolsDir();
  process.env.PATH = [join(tools, "pulumi", "bin"), join(tools, "node", "bin"), process.env.PATH ?? ""].join(
    ":",
  );
  Object.assign(process.env, pulumiEnv());
  for (const name of Object.keys(process.env)) {
    if (
      (/^MINDROOM_/.test(name) && name !== "MINDROOM_TOOLS_DIR") ||
      [
        "PULUMI_BACKEND_URL",
        "PULUMI_CONFIG_PASSPHRASE",
        "PULUMI_CONFIG_PASSPHRASE_FILE",
        "PULUMI_SECRETS_PROVIDER",
        "DOKKU_SSH_KEY",
        "DOKKU_HOSTS",
      ].includes(name)
    )
      delete process.env[name];
  }
}

export interface MachineInfo {
  readonly date: string;
  readonly cpu: string;
  readonly cores: number;
  readonly memoryGiB: number;
  readonly kernel: string;
  readonly uptimeStart: string;
  uptimeEnd: string;
  readonly versions: readonly [string, string][];
  readonly commit: string;
}

/** A tool's answer, from stdout or else stderr (`ssh -V` prints there). */
function run(command: string, args: string[]): string {
  const r = spawnSync(command, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  return (r.stdout.trim() || r.stderr.trim() || r.error?.message) ?? "";
}

function packageVersion(name: string): string {
  const pkg = JSON.parse(readFileSync(join(REPO_ROOT, "node_modules", name, "package.json"), "utf8")) as {
    version: string;
  };
  return pkg.version;
}

function pinned(name: string): string {
  const line = readFileSync(join(REPO_ROOT, "toolchain", "versions.env"), "utf8")
    .split("\n")
    .find((l) => l.startsWith(`${name}=`));
  return line?.slice(name.length + 1) ?? "unknown";
}

export function uptime(): string {
  return run("uptime", []);
}

export function load1(): number {
  return loadavg()[0] ?? Number.NaN;
}

export function machineInfo(): MachineInfo {
  const pulumi = join(toolsDir(), "pulumi", "bin", "pulumi");
  const plugins = JSON.parse(run(pulumi, ["plugin", "ls", "--json"]) || "[]") as {
    name: string;
    version: string;
  }[];
  const status = run("git", ["-C", REPO_ROOT, "status", "--porcelain"]);
  return {
    date: new Date().toISOString(),
    cpu: cpus()[0]?.model.trim() ?? "unknown",
    cores: cpus().length,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    kernel: `Linux ${release()}`,
    uptimeStart: uptime(),
    uptimeEnd: "",
    versions: [
      ["node", process.version],
      ["pulumi CLI", run(pulumi, ["version"])],
      ["pulumi-language-nodejs", `from sdk/v3 v${pinned("PULUMI_LANGUAGE_NODEJS_SDK")}`],
      ["command provider plugin", plugins.find((p) => p.name === "command")?.version ?? "not installed"],
      ["@pulumi/pulumi", packageVersion("@pulumi/pulumi")],
      ["@pulumi/command", packageVersion("@pulumi/command")],
      ["OpenSSH", run("ssh", ["-V"])],
    ],
    commit: `${run("git", ["-C", REPO_ROOT, "rev-parse", "--short", "HEAD"])}${status ? " (with uncommitted changes)" : ""}`,
  };
}
