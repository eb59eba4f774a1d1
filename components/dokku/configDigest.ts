import { createHash } from "node:crypto";

/**
 * A digest of an app's environment: recorded in the stack (the values are
 * secrets, their digest is not) so drift checks can compare what the host has
 * with what Pulumi set, without ever reading the values out.
 */
export function configDigest(config: Readonly<Record<string, string>>): string {
  const canonical = JSON.stringify(
    Object.keys(config)
      .sort()
      .map((k) => [k, config[k]]),
  );
  return createHash("sha256").update(canonical).digest("hex");
}
