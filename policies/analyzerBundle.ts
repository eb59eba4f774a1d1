/**
 * The policy pack as one file, for the analyzer the engine starts on every
 * preview and update. From index.ts Node resolves and reads about a thousand
 * modules (@pulumi/pulumi loads its automation API, npm's arborist and the
 * TypeScript compiler, none of which the pack calls); from the bundle it reads
 * one, which takes the analyzer's start from ~0.85 to ~0.1 CPU-s with the
 * compile cache (with what LEFT_OUT leaves out).
 *
 *   node policies/analyzerBundle.ts     builds it unless it is fresh (./platform setup runs this)
 *
 * Beside the bundle, `inputs.sha256` lists every file it was built from (the
 * pack's own modules, package-lock.json for the dependencies, this file) in
 * `sha256sum` format, relative to the repository. policies/analyzer runs the
 * bundle only while `sha256sum --check` passes, index.ts otherwise: an edited
 * policy is never enforced from a stale bundle.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { isAbsolute, join, relative, resolve } from "node:path";
// Vite 8's bundler (the portal's build), declared in policies/package.json at the version vite installs.
import { rolldown } from "rolldown";

/** Where policies/analyzer looks for the bundle unless MINDROOM_ANALYZER_BUNDLE names another folder. */
export const BUNDLE_DIR = resolve(import.meta.dirname, ".output");
export const BUNDLE_FILE = "analyzer.mjs";
export const INPUTS_FILE = "inputs.sha256";

const REPO_ROOT = resolve(import.meta.dirname, "..");
const ENTRY = join(import.meta.dirname, "index.ts");
/** npm installs exactly the lock, so it stands for every node_modules file the bundle took. */
const LOCK = join(REPO_ROOT, "package-lock.json");

/**
 * Packages @pulumi/pulumi loads at start for what only programs do, never a
 * policy pack: serializing functions into closures (npm's arborist for their
 * code paths, the TypeScript compiler) and driving the CLI (execa). Left out,
 * they take two thirds of the bundle's start with them. Each is replaced by a
 * module that throws, naming itself, when anything calls it.
 */
const LEFT_OUT = ["@npmcli/arborist", "normalize-package-data", "typescript", "execa"];
const LEFT_OUT_PREFIX = "\0left-out:";

/** The stand-in for a left-out package: loads, and throws once used. */
export function leftOutModule(name: string): string {
  const message = `${name} is left out of the policy analyzer's bundle (policies/analyzerBundle.ts LEFT_OUT): the pack cannot use it`;
  return `const fail = () => { throw new Error(${JSON.stringify(message)}); };
// Module interop reads __esModule when the package is imported: that alone must not fail.
const interop = new Set(["__esModule", "then"]);
module.exports = new Proxy(function leftOut() {}, {
  get: (_, key) => (typeof key === "symbol" || interop.has(key) ? undefined : fail()),
  apply: fail,
  construct: fail,
});
`;
}

/** `sha256sum` lines for these files, paths relative to the repository (what `sha256sum --check` reads there). */
export function inputsRecord(files: readonly string[]): string {
  return [...new Set(files)]
    .map((file) => relative(REPO_ROOT, file))
    .sort()
    .map((path) => `${sha256(join(REPO_ROOT, path))}  ${path}\n`)
    .join("");
}

/** True when the bundle in `dir` was built from exactly the files as they are now. */
export function bundleIsFresh(dir = BUNDLE_DIR): boolean {
  if (!existsSync(join(dir, BUNDLE_FILE))) return false;
  let record: string;
  try {
    record = readFileSync(join(dir, INPUTS_FILE), "utf8");
  } catch {
    return false;
  }
  const lines = record.split("\n").filter(Boolean);
  return (
    lines.length > 0 &&
    lines.every((line) => {
      const match = /^([0-9a-f]{64}) {2}(.+)$/.exec(line);
      if (!match?.[1] || !match[2]) return false;
      try {
        return sha256(join(REPO_ROOT, match[2])) === match[1];
      } catch {
        return false;
      }
    })
  );
}

/**
 * Bundles the pack into `dir`. The bundle is renamed into place before its
 * inputs record: a reader in between sees the previous record, which no longer
 * matches the sources, and runs index.ts.
 */
export async function buildAnalyzerBundle(dir = BUNDLE_DIR): Promise<void> {
  mkdirSync(dir, { recursive: true });
  const bundle = await rolldown({
    input: ENTRY,
    platform: "node",
    logLevel: "warn",
    plugins: [
      {
        name: "left-out",
        resolveId: (id) => (LEFT_OUT.includes(id) ? `${LEFT_OUT_PREFIX}${id}` : undefined),
        load: (id) =>
          id.startsWith(LEFT_OUT_PREFIX) ? leftOutModule(id.slice(LEFT_OUT_PREFIX.length)) : undefined,
      },
    ],
  });
  const partial = join(dir, `${BUNDLE_FILE}.${process.pid}.tmp`);
  try {
    const { output } = await bundle.write({ file: partial, format: "esm", codeSplitting: false });
    const own = output.flatMap((chunk) => (chunk.type === "chunk" ? chunk.moduleIds : []));
    const sources = own.filter((id) => isAbsolute(id) && !id.includes("/node_modules/"));
    if (!sources.includes(ENTRY)) throw new Error(`the analyzer bundle in ${dir} does not contain ${ENTRY}`);
    // This file too: how the bundle is made is part of what it is.
    const record = inputsRecord([...sources, LOCK, import.meta.filename]);
    const recordPartial = join(dir, `${INPUTS_FILE}.${process.pid}.tmp`);
    writeFileSync(recordPartial, record);
    renameSync(partial, join(dir, BUNDLE_FILE));
    renameSync(recordPartial, join(dir, INPUTS_FILE));
  } finally {
    await bundle.close();
    rmSync(partial, { force: true });
  }
}

function sha256(file: string): string {
  return createHash("sha256").update(readFileSync(file)).digest("hex");
}

if (import.meta.main) {
  const dir = process.argv[2] ? resolve(process.argv[2]) : BUNDLE_DIR;
  if (!bundleIsFresh(dir)) {
    console.error("platform: bundling the policy analyzer");
    await buildAnalyzerBundle(dir);
  }
}
