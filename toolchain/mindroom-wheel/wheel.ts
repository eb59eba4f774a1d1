/**
 * The MindRoom runtime's wheel (PyPI `mindroom` at MINDROOM_VERSION in
 * toolchain/versions.env), downloaded once with pip and unpacked into the
 * ignored tools folder, to be read: it needs Python >= 3.12, so nothing here
 * imports or runs it.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { toolsDir } from "../../automation/pulumiToolchain.ts";

const VERSIONS = resolve(import.meta.dirname, "..", "versions.env");

/** MINDROOM_VERSION from toolchain/versions.env. */
export function pinnedVersion(): string {
  const match = /^MINDROOM_VERSION=([0-9][0-9A-Za-z.]*)$/m.exec(readFileSync(VERSIONS, "utf8"));
  if (!match) throw new Error(`no MINDROOM_VERSION in ${VERSIONS}`);
  return match[1] as string;
}

/**
 * The unpacked wheel's folder (it holds `mindroom/`), downloading it on first use. pip must be on
 * PATH or in the tests' venv (toolchain/ensure.sh --only synapse).
 */
export function unpackedWheel(version = pinnedVersion()): string {
  const dir = join(toolsDir(), "mindroom-wheel", version);
  if (existsSync(join(dir, "mindroom", "config", "main.py"))) return dir;
  const staging = `${dir}.partial-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  const venvPip = join(toolsDir(), "synapse", "bin", "pip");
  const pip = existsSync(venvPip) ? venvPip : "pip3";
  // The wheel is pure Python but requires 3.12: ask pip for a 3.12 wheel, without dependencies.
  execFileSync(
    pip,
    [
      "download",
      `mindroom==${version}`,
      "--no-deps",
      "--only-binary=:all:",
      "--python-version",
      "3.12",
      "--disable-pip-version-check",
      "--quiet",
      "-d",
      staging,
    ],
    { stdio: ["ignore", "ignore", "inherit"] },
  );
  const wheel = readdirSync(staging).find((f) => f.endsWith(".whl"));
  if (!wheel) throw new Error(`pip downloaded no wheel of mindroom ${version}`);
  execFileSync("python3", ["-m", "zipfile", "-e", join(staging, wheel), staging], { stdio: "inherit" });
  rmSync(join(staging, wheel));
  rmSync(dir, { recursive: true, force: true });
  renameSync(staging, dir);
  return dir;
}
