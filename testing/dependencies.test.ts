/**
 * Dependencies are honest: every package an import names is declared by the
 * package (root, portal/, policies/) the importing file belongs to, and every
 * package a package.json declares is imported by that package's files or is a
 * tool it runs by name (the reason is written next to it below).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { importsOf, packageName, REPO_ROOT, sourceFiles } from "./importGraph.ts";

/** The workspaces (package.json "workspaces") and the root, most specific first. */
const PACKAGES = ["portal", "policies", "."] as const;
type Package = (typeof PACKAGES)[number];

/** Declared but imported by no file, on purpose: what runs them. */
const USED_BY_NAME: Readonly<Record<Package, Readonly<Record<string, string>>>> = {
  ".": {
    "@biomejs/biome": "npm run check / format (the biome CLI)",
  },
  portal: {},
  policies: {},
};

function packageOf(file: string): Package {
  return PACKAGES.find((p) => p !== "." && file.startsWith(`${p}/`)) ?? ".";
}

function manifest(pkg: Package): Record<string, Record<string, string> | undefined> {
  return JSON.parse(readFileSync(join(REPO_ROOT, pkg, "package.json"), "utf8"));
}

function declared(pkg: Package): Set<string> {
  const m = manifest(pkg);
  return new Set([
    ...Object.keys(m.dependencies ?? {}),
    ...Object.keys(m.devDependencies ?? {}),
    ...Object.keys(m.peerDependencies ?? {}),
  ]);
}

/** For each package: the npm packages its files import, with the first file:line naming each. */
function imported(): Map<Package, Map<string, string>> {
  const out = new Map<Package, Map<string, string>>(PACKAGES.map((p) => [p, new Map()]));
  for (const file of sourceFiles()) {
    const names = out.get(packageOf(file));
    for (const ref of importsOf(file)) {
      const name = packageName(ref.specifier);
      // `$1.js` and the like: strings in code the pre-processor takes for imports.
      if (!name || !/^(@[a-z0-9][\w.-]*\/)?[a-z0-9][\w.-]*$/.test(name)) continue;
      if (!names?.has(name)) names?.set(name, `${file}:${ref.line}`);
    }
  }
  return out;
}

describe("dependencies", () => {
  const imports = imported();

  it("every import is declared by the package the importing file belongs to", () => {
    const missing = PACKAGES.flatMap((pkg) => {
      const has = declared(pkg);
      return [...(imports.get(pkg) ?? [])]
        .filter(([name]) => !has.has(name))
        .map(([name, where]) => `${pkg}/package.json does not declare ${name} (imported at ${where})`);
    });
    expect(missing).toEqual([]);
  });

  it("nothing is declared that its package does not use", () => {
    const unused = PACKAGES.flatMap((pkg) => {
      const names = imports.get(pkg) ?? new Map<string, string>();
      return [...declared(pkg)]
        .filter((name) => {
          if (names.has(name) || name in USED_BY_NAME[pkg]) return false;
          // Type packages count as used when what they type is imported (node: the runtime itself).
          const typed = name.startsWith("@types/")
            ? name.slice("@types/".length).replace("__", "/")
            : undefined;
          if (typed === "node") return false;
          return !(typed && (names.has(typed) || names.has(`@${typed}`)));
        })
        .map((name) => `${pkg}/package.json declares ${name}, which no file of it imports`);
    });
    expect(unused).toEqual([]);
  });
});
