/**
 * The desired state of one tenant, as data: what the reconcile worker derives
 * from a subscription, what the automation layer writes into the tenant stack's
 * config, and what the stack program parses back (once, at the edge) before it
 * builds a MindRoomTenant. Secrets are not part of it; they travel as Pulumi
 * secrets in their own config keys.
 */
import { isIP } from "node:net";
import { z } from "zod";
import { BRIDGE_KINDS } from "./bridges.ts";
import { ENVIRONMENTS } from "./environments.ts";
import { parseDomain, parseSlug } from "./tenantNames.ts";
import { TIER_IDS, tier, withinLimit } from "./tiers.ts";

/** An image pinned by digest: `registry/repo[:tag]@sha256:<64 hex>`. */
const PINNED_IMAGE =
  /^[a-z0-9]+(?:[._-][a-z0-9]+)*(?::[0-9]+)?(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)+(?::[A-Za-z0-9_][A-Za-z0-9._-]{0,127})?@sha256:[a-f0-9]{64}$/;
export const pinnedImage = z
  .string()
  .regex(PINNED_IMAGE, "must be pinned by digest, like ghcr.io/org/repo@sha256:<64 hex digits>");

const slug = z.string().transform((value, ctx) => {
  try {
    return parseSlug(value);
  } catch (error) {
    ctx.addIssue({ code: "custom", message: (error as Error).message });
    return z.NEVER;
  }
});

export const dnsName = z.string().refine((value) => {
  try {
    parseDomain(value);
    return true;
  } catch {
    return false;
  }
}, "must be a lowercase DNS name like example.com");

/**
 * A cron schedule as it reaches a cron line (Dokku's `*:backup-schedule` writes
 * `<schedule> <user> <command>` into /etc/cron.d): exactly five fields of
 * numbers, `*`, three-letter names, ranges, lists and steps, one space apart,
 * or a macro. Anything else (a sixth field, a quote, a newline) could become
 * the user or the command of that line. Whether the schedule backs up often
 * enough is the policy pack's rule (policies/cron.ts).
 */
const CRON_ITEM = String.raw`(?:\*|[0-9]{1,2}|[A-Za-z]{3})(?:-(?:[0-9]{1,2}|[A-Za-z]{3}))?(?:/[0-9]{1,2})?`;
const CRON_FIELD = `${CRON_ITEM}(?:,${CRON_ITEM})*`;
export const CRON_SCHEDULE = new RegExp(
  `^(?:@(?:hourly|daily|midnight|weekly|monthly|yearly|annually)|${CRON_FIELD}(?: ${CRON_FIELD}){4})$`,
);

/** Where DNS records point: an IP address, or a DNS name (never a URL, a quote or whitespace). */
export function isHostAddress(value: string): boolean {
  return (
    isIP(value) !== 0 ||
    (value.length <= 253 &&
      /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/.test(value))
  );
}

/** `ssh://user@host:port`; the user needs a shell and the `dokku` command (root on a stock Dokku host). */
export const SSH_TARGET = /^ssh:\/\/([a-z_][a-z0-9_-]{0,31})@([a-z0-9.-]+|\[[0-9a-f:]+\]):([0-9]{1,5})$/;

export const hostSpec = z.object({
  url: z
    .string()
    .regex(SSH_TARGET, "must be ssh://user@host:port")
    .refine((url) => SSH_TARGET.exec(url)?.[1] !== "dokku", {
      message:
        "tenant stacks need a shell on the host to probe before they act: use root@ (or a sudo-capable user), not the dokku@ forced-command user",
    })
    .refine((url) => {
      const port = Number(SSH_TARGET.exec(url)?.[3]);
      return port >= 1 && port <= 65535;
    }, "port must be 1-65535"),
  /** The server's public host key (`ssh-ed25519 AAAA…`): connections to any other host are refused. */
  hostKey: z
    .string()
    .regex(/^(ssh-ed25519|ecdsa-sha2-nistp256|ssh-rsa) [A-Za-z0-9+/=]+$/, "must be one public key line"),
  /** The public address DNS records point at. */
  address: z.string().refine(isHostAddress, "must be an IP address or a lowercase DNS name"),
});

const tlsSpec = z.discriminatedUnion("mode", [
  z.object({ mode: z.literal("letsencrypt"), email: z.email() }),
  /** A Cloudflare origin certificate, given as secrets `originCertificate`/`originKey`. */
  z.object({ mode: z.literal("origin-certificate") }),
]);

export const dnsSpec = z.discriminatedUnion("enabled", [
  z.object({ enabled: z.literal(false) }),
  z.object({
    enabled: z.literal(true),
    zoneId: z.string().regex(/^[a-f0-9]{32}$/, "must be a Cloudflare zone id"),
    proxied: z.boolean(),
  }),
]);

export const bucketName = z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, "must be an S3 bucket name");
export const awsRegion = z
  .string()
  .regex(/^[a-z]{2}-[a-z]+-[0-9]$/, "must be an AWS region like eu-central-1");

const backupSpec = z.discriminatedUnion("enabled", [
  z.object({ enabled: z.literal(false) }),
  z.object({
    enabled: z.literal(true),
    bucket: bucketName,
    region: awsRegion,
    /** Cron expression; at most 6 hours between runs (see policies). */
    schedule: z
      .string()
      .regex(CRON_SCHEDULE, "must be a five-field cron expression like 0 */6 * * * (or @hourly, @daily)")
      .default("0 */6 * * *"),
  }),
]);

/** An http(s) origin or base URL without credentials, query or fragment (it ends up in the runtime's env). */
const baseUrl = z
  .string()
  .regex(
    /^https?:\/\/[a-z0-9.-]+(?::[0-9]{1,5})?(?:\/[A-Za-z0-9._~/-]*)?$/,
    "must be an http(s) URL like https://example.com",
  )
  .transform((u) => u.replace(/\/+$/, ""));

/**
 * The runtime's platform auth mode (mindroom/api/auth.py): bearer tokens are
 * checked against the platform's auth server, only the owner gets in, and the
 * portal signs them in with single-use tickets. Without it the runtime stays in
 * API-key mode, for operators only.
 */
const platformAuthSpec = z.object({
  /** The owner's account id (the auth server's user id): `ACCOUNT_ID`, the tickets' subject. */
  accountId: z.uuid("must be the owner's account id (a UUID)"),
  /** `SUPABASE_URL`: where the runtime checks bearer tokens. */
  supabaseUrl: baseUrl,
  /** `SUPABASE_ANON_KEY`: the auth server's public (browser-safe) key. */
  supabaseAnonKey: z.string().regex(/^[A-Za-z0-9._-]{1,2000}$/, "must be the auth server's anon key (a JWT)"),
  /** The portal's public URL: the runtime sends people who are not signed in there. */
  portalUrl: baseUrl,
});

/** One enabled Matrix bridge (components/bridges.ts) and the image it runs. */
const bridgeSpec = z.object({ kind: z.enum(BRIDGE_KINDS), image: pinnedImage });

export const tenantSpecSchema = z
  .object({
    slug,
    tier: z.enum(TIER_IDS),
    environment: z.enum(ENVIRONMENTS),
    /** The customer's name for their instance, shown by the runtime; free text. */
    displayName: z
      .string()
      .min(1)
      .max(100)
      .regex(/^[^\p{Cc}]*$/u, "must be one line of text without control characters")
      .optional(),
    /** Unpaid: every process scaled to zero, all data kept. */
    suspended: z.boolean().default(false),
    /**
     * Restart the tenant's apps once per new value (a customer's restart): absent
     * until the first, so a tenant never restarted keeps the same spec hash.
     */
    restartGeneration: z.number().int().positive().optional(),
    /** Lift data protection so a destroy also removes databases and storage (after the final backup). */
    purgeData: z.boolean().default(false),
    baseDomain: dnsName,
    homeserver: z.enum(["tuwunel", "synapse"]).default("tuwunel"),
    /** Single sign-on from the portal (absent: API-key mode, operators only). */
    platformAuth: platformAuthSpec.optional(),
    /** The Matrix bridges the customer enabled (absent: none), each its own app on the tenant network. */
    bridges: z.array(bridgeSpec).optional(),
    /** Images pinned by digest: the runtime, the chosen homeserver, and the storage backup job. */
    images: z.object({ runtime: pinnedImage, homeserver: pinnedImage, backup: pinnedImage }),
    host: hostSpec,
    tls: tlsSpec,
    dns: dnsSpec,
    backups: backupSpec,
  })
  .superRefine((spec, ctx) => {
    const kinds = (spec.bridges ?? []).map((b) => b.kind);
    if (new Set(kinds).size !== kinds.length)
      ctx.addIssue({ code: "custom", path: ["bridges"], message: "lists a bridge twice" });
    const allowed = tier(spec.tier).bridges;
    if (!withinLimit(kinds.length, allowed))
      ctx.addIssue({
        code: "custom",
        path: ["bridges"],
        message: `the ${spec.tier} tier allows ${allowed} bridge${allowed === 1 ? "" : "s"}, not ${kinds.length}`,
      });
    if (spec.environment !== "production") return;
    if (!spec.dns.enabled)
      ctx.addIssue({ code: "custom", path: ["dns"], message: "production tenants need DNS" });
    if (!spec.backups.enabled)
      ctx.addIssue({ code: "custom", path: ["backups"], message: "production tenants need backups" });
  });

export type TenantSpec = z.output<typeof tenantSpecSchema>;
export type TenantSpecInput = z.input<typeof tenantSpecSchema>;

/** A spec that failed validation, listing every problem with its path. */
export class TenantSpecError extends Error {
  override readonly name = "TenantSpecError";
  readonly issues: readonly string[];
  constructor(issues: readonly string[]) {
    super(`invalid tenant spec:\n  - ${issues.join("\n  - ")}`);
    this.issues = issues;
  }
}

/** Each issue of a failed parse as `path: message`, for the specs' errors. */
export function issueLines(error: z.ZodError): string[] {
  return error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`);
}

export function parseTenantSpec(input: unknown): TenantSpec {
  const result = tenantSpecSchema.safeParse(input);
  if (!result.success) {
    throw new TenantSpecError(issueLines(result.error));
  }
  return result.data;
}

/** The SSH target split into the parts a connection needs. */
export function sshTarget(url: string): { user: string; host: string; port: number } {
  const match = SSH_TARGET.exec(url);
  if (!match) throw new TenantSpecError([`host.url: ${JSON.stringify(url)} must be ssh://user@host:port`]);
  const [, user = "", host = "", port = "0"] = match;
  return { user, host: host.replace(/^\[|\]$/g, ""), port: Number(port) };
}
