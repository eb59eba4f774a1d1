/**
 * The slug of a new customer's tenant: readable (from the email's local part or
 * the name), valid by the slug grammar, and unique by a suffix derived from the
 * Stripe customer id. It is stored in the instances row when the row is created
 * and never recomputed: every name on the host and in DNS hangs off it.
 */
import { createHash } from "node:crypto";
import { parseSlug, SLUG_MAX, type Slug } from "../../components/tenantNames.ts";

const SUFFIX_LENGTH = 6;

export interface SlugSource {
  readonly stripeCustomerId: string;
  readonly email?: string | null;
  readonly name?: string | null;
  /**
   * 0 for the first try. The suffix is 6 base-36 digits of a hash (2 billion
   * values); if the database still reports the slug taken, each further
   * attempt lengthens it by one digit.
   */
  readonly attempt?: number;
}

export function tenantSlug(source: SlugSource): Slug {
  const suffixLength = SUFFIX_LENGTH + (source.attempt ?? 0);
  const suffix = BigInt(`0x${createHash("sha256").update(source.stripeCustomerId).digest("hex")}`)
    .toString(36)
    .padStart(suffixLength, "0")
    .slice(-suffixLength);
  const stem = readableStem(source.email, source.name);
  const room = SLUG_MAX - suffix.length - 1;
  const base = stem.slice(0, room).replace(/-+$/, "");
  return parseSlug(`${base}-${suffix}`);
}

/** The email's local part, else the name, folded to a-z0-9 and single hyphens, starting with a letter. */
function readableStem(email: string | null | undefined, name: string | null | undefined): string {
  for (const raw of [email?.split("@")[0], name]) {
    const folded = (raw ?? "")
      .normalize("NFKD")
      .replace(/[\u0300-\u036f]/g, "")
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, "-")
      .replace(/^[^a-z]+/, "")
      .replace(/-+$/, "");
    if (folded.length >= 2) return folded;
  }
  return "tenant";
}
