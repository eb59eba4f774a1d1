/**
 * The desired state of the control plane itself, as data: which host its two
 * apps run on, the image they run, their domains and TLS, and (in production)
 * the DNS records, the backup bucket and the secrets key. The platform stack
 * (stacks/platform/) parses it once from its config; the apps' environments
 * are secrets and travel in their own config keys.
 */
import { z } from "zod";
import { ENVIRONMENTS } from "./environments.ts";
import { awsRegion, bucketName, dnsName, dnsSpec, hostSpec, issueLines, pinnedImage } from "./tenantSpec.ts";

/** The control plane's parts, each its own Dokku app (MINDROOM_SERVE_ONLY). */
export const CONTROL_PLANE_PARTS = ["webhooks", "portal"] as const;
export type ControlPlanePart = (typeof CONTROL_PLANE_PARTS)[number];

const storageSpec = z.discriminatedUnion("enabled", [
  z.object({ enabled: z.literal(false) }),
  z.object({
    enabled: z.literal(true),
    /** The tenants' backup bucket (MINDROOM_BACKUP_BUCKET). */
    bucket: bucketName,
    region: awsRegion,
    /** Backups older than this expire (MINDROOM_BACKUP_RETENTION, in whole days). */
    retentionDays: z.number().int().min(1).max(3650),
    /** The KMS key's alias, without `alias/`: the Pulumi secrets provider and the bucket's encryption. */
    secretsKeyAlias: z
      .string()
      .regex(/^[A-Za-z0-9/_-]{1,250}$/, "must be a KMS alias name like mindroom-secrets (without alias/)")
      .refine((alias) => !alias.startsWith("aws/"), "aliases under aws/ are reserved by AWS"),
  }),
]);

export const platformSpecSchema = z
  .object({
    environment: z.enum(ENVIRONMENTS),
    /** The control host: a Dokku host of the hosts table, with its pinned key. */
    host: hostSpec,
    /** The control plane's image (this repository's Dockerfile), pinned by digest. */
    image: pinnedImage,
    /** Each part's public domain; TLS covers it. */
    domains: z.object({ webhooks: dnsName, portal: dnsName }),
    /** The Let's Encrypt account of the control plane's certificates. */
    tlsEmail: z.email(),
    dns: dnsSpec,
    storage: storageSpec,
  })
  .superRefine((spec, ctx) => {
    if (spec.domains.webhooks === spec.domains.portal)
      ctx.addIssue({
        code: "custom",
        path: ["domains"],
        message: "the webhook service and the portal need different domains",
      });
    if (spec.environment !== "production") return;
    if (!spec.dns.enabled)
      ctx.addIssue({ code: "custom", path: ["dns"], message: "a production control plane needs DNS" });
    if (!spec.storage.enabled)
      ctx.addIssue({
        code: "custom",
        path: ["storage"],
        message: "a production control plane needs its backup bucket and secrets key",
      });
  });

export type PlatformSpec = z.output<typeof platformSpecSchema>;
export type PlatformSpecInput = z.input<typeof platformSpecSchema>;

/** A platform spec that failed validation, listing every problem with its path. */
export class PlatformSpecError extends Error {
  override readonly name = "PlatformSpecError";
  readonly issues: readonly string[];
  constructor(error: z.ZodError) {
    const issues = issueLines(error);
    super(`invalid platform spec:\n  - ${issues.join("\n  - ")}`);
    this.issues = issues;
  }
}

export function parsePlatformSpec(input: unknown): PlatformSpec {
  const result = platformSpecSchema.safeParse(input);
  if (result.success) return result.data;
  throw new PlatformSpecError(result.error);
}
