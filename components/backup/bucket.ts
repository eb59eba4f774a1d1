import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

export interface BackupBucketArgs {
  /** The bucket's name (MINDROOM_BACKUP_BUCKET): tenant stacks write under `tenants/<slug>/`. */
  readonly bucket: string;
  /** Backups older than this many days expire (MINDROOM_BACKUP_RETENTION). */
  readonly retentionDays: number;
  /** The KMS key every object is encrypted with at rest. */
  readonly kmsKeyArn: pulumi.Input<string>;
}

/** Days an overwritten or deleted backup stays recoverable as a noncurrent version. */
export const NONCURRENT_DAYS = 7;

/**
 * The tenants' backup bucket: private, versioned (an overwritten or deleted
 * backup stays recoverable for a week), encrypted with the platform's KMS key,
 * and expiring backups after the retention. It outlives the stack: destroying
 * the platform stack never deletes backups.
 */
export class BackupBucket extends pulumi.ComponentResource {
  readonly bucket: string;
  readonly arn: pulumi.Output<string>;

  constructor(name: string, args: BackupBucketArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mindroom:backup:Bucket", name, { bucket: args.bucket, retentionDays: args.retentionDays }, opts);
    const child = { parent: this };
    const bucket = new aws.s3.Bucket(
      `${name}-bucket`,
      { bucket: args.bucket, forceDestroy: false, tags: { "managed-by": "mindroom-cloud" } },
      { ...child, retainOnDelete: true },
    );
    const bucketChild = { ...child, dependsOn: [bucket] };
    new aws.s3.BucketPublicAccessBlock(
      `${name}-private`,
      {
        bucket: bucket.id,
        blockPublicAcls: true,
        blockPublicPolicy: true,
        ignorePublicAcls: true,
        restrictPublicBuckets: true,
      },
      bucketChild,
    );
    new aws.s3.BucketVersioning(
      `${name}-versioning`,
      { bucket: bucket.id, versioningConfiguration: { status: "Enabled" } },
      bucketChild,
    );
    new aws.s3.BucketServerSideEncryptionConfiguration(
      `${name}-encryption`,
      {
        bucket: bucket.id,
        rules: [
          {
            applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: args.kmsKeyArn },
            // One data key per bucket instead of a KMS call per object.
            bucketKeyEnabled: true,
          },
        ],
      },
      bucketChild,
    );
    new aws.s3.BucketLifecycleConfiguration(
      `${name}-retention`,
      {
        bucket: bucket.id,
        rules: [
          {
            id: "backup-retention",
            status: "Enabled",
            filter: { prefix: "" },
            expiration: { days: args.retentionDays },
            noncurrentVersionExpiration: { noncurrentDays: NONCURRENT_DAYS },
            abortIncompleteMultipartUpload: { daysAfterInitiation: 1 },
          },
          {
            // An expired backup leaves a delete marker; without versions behind it, it is noise.
            id: "expired-delete-markers",
            status: "Enabled",
            filter: { prefix: "" },
            expiration: { expiredObjectDeleteMarker: true },
          },
        ],
      },
      bucketChild,
    );
    this.bucket = args.bucket;
    this.arn = bucket.arn;
    this.registerOutputs({ bucket: this.bucket, arn: this.arn });
  }
}
