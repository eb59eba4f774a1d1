/**
 * The options every MindRoom Cloud command line takes, defined once for
 * `node:util` parseArgs: `--json` for scripts, `--help`/`-h` for people.
 */
export const STANDARD_OPTIONS = {
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;
