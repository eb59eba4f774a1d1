/**
 * The command line of a bench scenario with its own options (`npm run bench -- <scenario> …`):
 * string options with defaults and `--help`, parsed strictly; a bad option prints why and the usage
 * and means exit code 2.
 */
import { parseArgs } from "node:util";

export type BenchArgs<T> = { readonly options: T } | { readonly exitCode: number };

export function parseBenchArgs<T>(
  argv: string[],
  usage: string,
  defaults: Readonly<Record<string, string>>,
  build: (values: Readonly<Record<string, string>>) => T,
): BenchArgs<T> {
  try {
    const { values } = parseArgs({
      args: argv,
      strict: true,
      options: {
        ...Object.fromEntries(
          Object.entries(defaults).map(([name, value]) => [
            name,
            { type: "string" as const, default: value },
          ]),
        ),
        help: { type: "boolean", default: false },
      },
    });
    if (values.help) {
      process.stdout.write(usage);
      return { exitCode: 0 };
    }
    const strings: Record<string, string> = {};
    for (const [name, value] of Object.entries(values)) if (typeof value === "string") strings[name] = value;
    return { options: build(strings) };
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n\n${usage}`);
    return { exitCode: 2 };
  }
}

export function positiveInteger(name: string, raw: string | undefined): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer, got ${raw}`);
  return n;
}

export function positiveNumber(name: string, raw: string | undefined): number {
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} must be a positive number, got ${raw}`);
  return n;
}
