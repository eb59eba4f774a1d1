import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

export interface BackupCredentialsArgs {
  /** The tenant slug, named in the IAM user. */
  readonly slug: string;
  /** The platform's backup bucket (created outside tenant stacks). */
  readonly bucket: string;
  /** The tenant's prefix in that bucket, without slashes at either end. */
  readonly prefix: string;
}

/** An IAM policy document that reaches only `prefix` in `bucket`. */
export function backupPolicy(bucket: string, prefix: string): aws.iam.PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "TenantObjects",
        Effect: "Allow",
        Action: ["s3:PutObject", "s3:GetObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"],
        Resource: [`arn:aws:s3:::${bucket}/${prefix}/*`],
      },
      {
        Sid: "TenantListing",
        Effect: "Allow",
        Action: ["s3:ListBucket"],
        Resource: [`arn:aws:s3:::${bucket}`],
        Condition: { StringLike: { "s3:prefix": [`${prefix}/*`] } },
      },
    ],
  };
}

/**
 * A per-tenant IAM user whose only permission is the tenant's own prefix of
 * the backup bucket, and its access key: a leaked tenant key exposes nobody else.
 */
export class BackupCredentials extends pulumi.ComponentResource {
  readonly accessKeyId: pulumi.Output<string>;
  readonly secretAccessKey: pulumi.Output<string>;
  /** `s3://<bucket>/<prefix>` */
  readonly location: string;

  constructor(name: string, args: BackupCredentialsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mindroom:backup:Credentials", name, { ...args }, opts);
    const child = { parent: this };
    const user = new aws.iam.User(
      `${name}-user`,
      { name: `mindroom-backup-${args.slug}`, path: "/mindroom/tenants/", tags: { tenant: args.slug } },
      child,
    );
    new aws.iam.UserPolicy(
      `${name}-policy`,
      { user: user.name, policy: JSON.stringify(backupPolicy(args.bucket, args.prefix)) },
      child,
    );
    const key = new aws.iam.AccessKey(`${name}-key`, { user: user.name }, child);
    this.accessKeyId = pulumi.secret(key.id);
    this.secretAccessKey = pulumi.secret(key.secret);
    this.location = `s3://${args.bucket}/${args.prefix}`;
    this.registerOutputs({ location: this.location });
  }
}
