/**
 * Recognising secrets in text without knowing them. A CrossGuard policy sees
 * secret values unwrapped and cannot ask whether a value was a Pulumi secret
 * (pulumi/pulumi-policy#241), so the pack looks where a secret must never be
 * (script text, component inputs, stack outputs) for things that can only be
 * secrets, and for the root secret by its fingerprint. Findings describe what
 * was found and where, never the value.
 */
import { createHash } from "node:crypto";

interface Pattern {
  readonly what: string;
  readonly regex: RegExp;
  /** A SHA-256 digest looks the same; fields named as digests hold those. */
  readonly lookalikeOfDigest?: boolean;
}

const PATTERNS: readonly Pattern[] = [
  { what: "a PEM private key", regex: /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/ },
  { what: "an AWS access key id", regex: /\b(?:AKIA|ASIA)[A-Z0-9]{16}\b/ },
  // Derived tenant secrets are 64 hex digits (components/tenantSecrets.ts); image
  // digests look the same but always follow "sha256:".
  {
    what: "a 64-hex-digit secret",
    regex: /(?<![0-9a-fA-F])(?<!sha256:)[0-9a-f]{64}(?![0-9a-fA-F])/,
    lookalikeOfDigest: true,
  },
  { what: "a URL with an embedded password", regex: /\b[a-z][a-z0-9+.-]*:\/\/[^\s:@/]+:[^\s@/]+@/ },
  // A secret-named variable given a literal value (`config:set app API_KEY=…`),
  // rather than one read from stdin (`"$AWS_SECRET"`).
  {
    what: "a literal value for a secret-named variable",
    regex:
      /\b[A-Z0-9_]*(?:SECRET|PASSWORD|PASSPHRASE|TOKEN|API_?KEY|PRIVATE_?KEY|ACCESS_?KEY)[A-Z0-9_]*=(?!["']?\$)[^\s"']+/,
  },
];

/** A field that holds a digest by name (`configDigest`): a hash of secrets, not one. */
export const DIGEST_FIELD = /digest$/i;

/**
 * What kinds of secret material `text` contains (empty when none). `path` is
 * where the text sits; a field named as a digest may hold 64 hex digits.
 */
export function secretMaterialIn(text: string, path = ""): string[] {
  const digest = DIGEST_FIELD.test(path);
  return PATTERNS.filter((p) => !(digest && p.lookalikeOfDigest) && p.regex.test(text)).map((p) => p.what);
}

/** Environment and config names whose values are secrets. */
export const SECRET_NAME = /SECRET|PASSWORD|PASSPHRASE|TOKEN|API_?KEY|PRIVATE_?KEY|ACCESS_?KEY|CREDENTIAL/i;

export interface Fingerprint {
  /** SHA-256 of the secret, hex. */
  readonly sha256: string;
  /** Its length in UTF-16 code units (characters, for the ASCII secrets the platform generates). */
  readonly length: number;
}

export function fingerprintOf(secret: string): Fingerprint {
  return { sha256: createHash("sha256").update(secret, "utf8").digest("hex"), length: secret.length };
}

/** True when some `length`-character window of `text` hashes to the fingerprint. */
export function containsFingerprinted(text: string, fingerprint: Fingerprint): boolean {
  for (let i = 0; i + fingerprint.length <= text.length; i++) {
    const window = text.slice(i, i + fingerprint.length);
    if (createHash("sha256").update(window, "utf8").digest("hex") === fingerprint.sha256) return true;
  }
  return false;
}
