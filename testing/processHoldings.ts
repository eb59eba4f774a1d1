/**
 * What a running process holds, read through /proc: its environment, its
 * command line, and the files it has open (and their contents). Tests use it to
 * prove that the portal holds none of the worker's credentials.
 */
import { readdirSync, readFileSync, readlinkSync, statSync } from "node:fs";

/** Variables that carry infrastructure credentials (or point at them). */
export const CREDENTIAL_VARIABLES = [
  "DOKKU_SSH_KEY",
  "DOKKU_KNOWN_HOSTS",
  "MINDROOM_ROOT_SECRET",
  "PULUMI_BACKEND_URL",
  "PULUMI_CONFIG_PASSPHRASE",
  "PULUMI_CONFIG_PASSPHRASE_FILE",
  "PULUMI_SECRETS_PROVIDER",
  "PULUMI_ACCESS_TOKEN",
  "AWS_ACCESS_KEY_ID",
  "AWS_SECRET_ACCESS_KEY",
  "AWS_SESSION_TOKEN",
  "CLOUDFLARE_API_TOKEN",
] as const;

export interface Holdings {
  /** Secret values (and credential variable names) found in the environment, command line or open files. */
  readonly secretsFound: string[];
  /** Credential files among the open files. */
  readonly keyFilesOpen: string[];
}

function openFiles(pid: number): string[] {
  const targets: string[] = [];
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      targets.push(readlinkSync(`/proc/${pid}/fd/${fd}`));
    } catch {
      // Closed while we looked.
    }
  }
  return targets;
}

/**
 * Looks for each secret value (and each credential variable) in what `pid`
 * holds; `files` are credential files that must not be open.
 */
export function processHoldings(
  pid: number,
  secrets: { readonly values: readonly string[]; readonly files: readonly string[] },
): Holdings {
  const environ = readFileSync(`/proc/${pid}/environ`, "utf8").split("\0");
  const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8");
  const files = openFiles(pid);
  const contents = files
    .filter((f) => f.startsWith("/"))
    .map((f) => {
      try {
        return statSync(f).isFile() && statSync(f).size < 32 << 20 ? readFileSync(f, "utf8") : "";
      } catch {
        return "";
      }
    });
  const found: string[] = [];
  for (const name of CREDENTIAL_VARIABLES)
    if (environ.some((entry) => entry.startsWith(`${name}=`))) found.push(`variable ${name}`);
  for (const value of secrets.values.filter((v) => v.trim().length >= 8)) {
    const label = `${value.slice(0, 4)}…`;
    if (environ.some((entry) => entry.includes(value))) found.push(`${label} in the environment`);
    if (cmdline.includes(value)) found.push(`${label} on the command line`);
    if (contents.some((text) => text.includes(value))) found.push(`${label} in an open file`);
  }
  return { secretsFound: found, keyFilesOpen: files.filter((f) => secrets.files.includes(f)) };
}
