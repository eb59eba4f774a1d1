/**
 * Writes the pack's config file for an operator's CLI run and prints its path:
 *
 *   MINDROOM_ROOT_SECRET=… node policies/writeConfig.ts policy-settings.json [directory]
 *
 * `policy-settings.json` holds `{ baseDomain, environment, hosts }` (see
 * config.ts `PackConfig`); the root secret comes from the environment and only
 * its fingerprint is written. The file lands in `directory` (default
 * `$MINDROOM_DATA_DIR/policy`, i.e. `.data/policy`).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { type PolicySettings, policyPackOptions } from "./packOptions.ts";

const [settingsPath, directory] = process.argv.slice(2);
const rootSecret = process.env.MINDROOM_ROOT_SECRET;
if (!settingsPath || !rootSecret) {
  console.error(
    "usage: MINDROOM_ROOT_SECRET=… node policies/writeConfig.ts <policy-settings.json> [directory]",
  );
  process.exit(2);
}
// The engine validates every value against the policies' config schemas when the pack starts.
const settings = JSON.parse(readFileSync(settingsPath, "utf8")) as Omit<PolicySettings, "rootSecret">;
const options = policyPackOptions(
  { ...settings, rootSecret },
  directory ?? join(process.env.MINDROOM_DATA_DIR || ".data", "policy"),
);
console.log(options.policyPackConfigs[0]);
