/**
 * The repository's source files and what each imports, read with TypeScript's
 * own pre-processor (static imports, re-exports, dynamic `import()` and
 * `require`), for tests that hold the layout's rules: which modules are
 * production code, that production never imports a stand-in, and that every
 * package an import names is declared by the package that imports it.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import ts from "typescript";

export const REPO_ROOT = resolve(import.meta.dirname, "..");

/** Every tracked (or new, not ignored) TypeScript file, relative to the repository root. */
export function sourceFiles(root = REPO_ROOT): string[] {
  const out = execFileSync("git", ["ls-files", "--cached", "--others", "--exclude-standard", "-z"], {
    cwd: root,
    encoding: "utf8",
  });
  return out
    .split("\0")
    .filter((f) => /\.(ts|tsx|mts)$/.test(f) && !f.endsWith(".d.ts"))
    .filter((f) => {
      try {
        readFileSync(join(root, f));
        return true;
      } catch {
        return false; // deleted in the work tree, not yet in the index
      }
    })
    .sort();
}

/** Stand-ins for real services: used by tests and `./platform start`, never by production code. */
export const STAND_IN_FOLDERS = ["stripe-local/", "dokku-double/", "testing/"] as const;

/**
 * Whether a file is production code: everything except tests, test support
 * (any `testing/` or `tests/` folder), the stand-ins and the benchmarks.
 * `platform.ts` is the launcher of the embedded defaults (`./platform start`):
 * starting the stand-ins is its job.
 */
export function isProduction(file: string): boolean {
  if (/\.test\.tsx?$/.test(file)) return false;
  if (/(^|\/)(testing|tests)\//.test(file)) return false;
  if (/^(stripe-local|dokku-double|bench)\//.test(file)) return false;
  return file !== "platform.ts";
}

export interface ImportRef {
  /** The specifier as written. */
  readonly specifier: string;
  /** For a relative specifier: the target, relative to the repository root. */
  readonly target?: string;
  readonly line: number;
}

/** What a file imports (static, re-exports, dynamic, require), relative ones resolved. */
export function importsOf(file: string, root = REPO_ROOT): ImportRef[] {
  const text = readFileSync(join(root, file), "utf8");
  const info = ts.preProcessFile(text, true, true);
  return info.importedFiles.map((ref) => {
    const line = text.slice(0, ref.pos).split("\n").length;
    if (!ref.fileName.startsWith(".")) return { specifier: ref.fileName, line };
    const target = relative(root, resolve(root, dirname(file), ref.fileName));
    return { specifier: ref.fileName, target, line };
  });
}

/** The npm package a bare specifier names (`@scope/name/sub` → `@scope/name`), or undefined for `node:` builtins. */
export function packageName(specifier: string): string | undefined {
  if (specifier.startsWith("node:") || specifier.startsWith(".") || specifier.startsWith("/"))
    return undefined;
  const parts = specifier.split("/");
  return specifier.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0];
}
