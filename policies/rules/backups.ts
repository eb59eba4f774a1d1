/**
 * Backups: a production tenant is backed up at least every 6 hours, with AWS
 * credentials that reach only its own prefix of the backup bucket.
 */
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { CronError, longestGapMinutes } from "../cron.ts";
import { inTenant } from "../define.ts";
import { list, obj, str, strings } from "../props.ts";
import { shortType, TYPES } from "../resourceTypes.ts";
import { backupPrefix, isProduction } from "../tenantView.ts";

/** The longest a production tenant may go without a backup. */
export const MAX_BACKUP_GAP_MINUTES = 6 * 60;

/** Why `schedule` does not back up often enough, or undefined when it does. */
export function scheduleProblem(schedule: string | undefined): string | undefined {
  if (schedule === undefined) return "has no backup schedule";
  let gap: number;
  try {
    gap = longestGapMinutes(schedule);
  } catch (error) {
    if (error instanceof CronError) return `has a backup schedule the pack cannot read (${error.message})`;
    throw error;
  }
  if (gap <= MAX_BACKUP_GAP_MINUTES) return undefined;
  const hours = Number.isFinite(gap) ? `${Math.round((gap / 60) * 10) / 10} hours` : "forever";
  return `backs up on ${JSON.stringify(schedule)}, which leaves up to ${hours} between backups (at most 6 allowed)`;
}

export const productionBackupsEvery6h: ResourceValidationPolicy = {
  name: "production-backups-every-6h",
  description:
    "A production tenant has backups, scheduled at most 6 hours apart (the tenant's and each service's schedule).",
  enforcementLevel: "mandatory",
  remediationSteps: 'Enable backups in the spec with a schedule like "0 */6 * * *".',
  ...inTenant(
    { types: [TYPES.tenant, TYPES.serviceBackup], config: ["environment"] },
    ({ resource, tenant, config, report }) => {
      if (!isProduction(tenant, config.environment)) return;
      if (resource.type === TYPES.tenant) {
        if (!tenant.spec.backups.enabled) {
          report("it is a production tenant without backups; enable backups in its spec.");
          return;
        }
        const problem = scheduleProblem(tenant.spec.backups.schedule);
        if (problem) report(`it ${problem}; schedule backups at least every 6 hours ("0 */6 * * *").`);
        return;
      }
      const problem = scheduleProblem(str(resource.props.schedule));
      if (problem)
        report(
          `${shortType(resource.type)} ${resource.name} of service ${str(resource.props.service)} ${problem}; schedule it from the tenant's backup schedule.`,
        );
    },
  ),
};

const S3 = "arn:aws:s3:::";

/** Every way an IAM policy document reaches beyond `bucket/prefix/`. */
export function scopeProblems(document: unknown, bucket: string | undefined, prefix: string): string[] {
  const statements = list(obj(document)?.Statement ?? []);
  const within = (key: string) => key.startsWith(`${prefix}/`) && !key.includes("..");
  const problems: string[] = [];
  for (const [i, s] of statements.entries()) {
    const statement = obj(s) ?? {};
    if (str(statement.Effect) === "Deny") continue; // a Deny grants nothing
    if (statement.NotResource !== undefined || statement.NotAction !== undefined) {
      problems.push(`statement ${i} uses NotResource/NotAction, which grants everything not listed`);
      continue;
    }
    const resources =
      typeof statement.Resource === "string" ? [statement.Resource] : strings(statement.Resource);
    if (resources.length === 0) problems.push(`statement ${i} names no resource`);
    for (const arn of resources) {
      if (bucket !== undefined && arn === `${S3}${bucket}`) {
        // The bucket itself (ListBucket) is fine only when listing is limited to the prefix.
        const like = obj(obj(statement.Condition)?.StringLike);
        const prefixes =
          typeof like?.["s3:prefix"] === "string" ? [like["s3:prefix"]] : strings(like?.["s3:prefix"]);
        if (prefixes.length === 0 || !prefixes.every(within)) {
          problems.push(
            `statement ${i} reaches bucket ${bucket} without an s3:prefix condition under ${prefix}/`,
          );
        }
      } else if (
        bucket === undefined ||
        !arn.startsWith(`${S3}${bucket}/`) ||
        !within(arn.slice(`${S3}${bucket}/`.length))
      ) {
        problems.push(`statement ${i} reaches ${arn}, outside ${S3}${bucket ?? "<bucket>"}/${prefix}/`);
      }
    }
  }
  return problems;
}

export const backupCredentialsScoped: ResourceValidationPolicy = {
  name: "backup-credentials-scoped",
  description:
    "A tenant's backup credentials and destinations reach only the tenant's own prefix of the backup bucket.",
  enforcementLevel: "mandatory",
  remediationSteps:
    'Build the IAM policy with backupPolicy(bucket, "tenants/<slug>") (components/backup/credentials.ts).',
  ...inTenant(
    { types: [TYPES.iamUserPolicy, TYPES.backupCredentials, TYPES.serviceBackup], config: [] },
    ({ resource, tenant, report }) => {
      const prefix = backupPrefix(tenant.spec.slug);
      const bucket = tenant.spec.backups.bucket;
      const label = `${shortType(resource.type)} ${resource.name}`;
      if (resource.type === TYPES.backupCredentials) {
        if (str(resource.props.prefix) !== prefix || str(resource.props.bucket) !== bucket) {
          report(
            `${label} is for ${str(resource.props.bucket)}/${str(resource.props.prefix)}, not the tenant's ${bucket}/${prefix}; scope it to the tenant's prefix.`,
          );
        }
      } else if (resource.type === TYPES.serviceBackup) {
        const destination = str(resource.props.destination) ?? "";
        if (!destination.startsWith(`${bucket}/${prefix}/`)) {
          report(
            `${label} writes to ${destination}, outside the tenant's ${bucket}/${prefix}/; write only under it.`,
          );
        }
      } else {
        let document: unknown;
        try {
          document = JSON.parse(str(resource.props.policy) ?? "");
        } catch {
          report(`${label} has a policy that is not a JSON document, so its reach cannot be checked.`);
          return;
        }
        for (const problem of scopeProblems(document, bucket, prefix)) {
          report(`${label}: ${problem}; build it with backupPolicy(bucket, prefix).`);
        }
      }
    },
  ),
};
