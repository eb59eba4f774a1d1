import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

export interface SecretsKeyArgs {
  /** The alias without `alias/` (PULUMI_SECRETS_PROVIDER=awskms://alias/<alias>). */
  readonly alias: string;
}

/**
 * The platform's KMS key: the Pulumi secrets provider of every stack
 * (`awskms://alias/<alias>`) and the backup bucket's encryption. Rotated
 * yearly by AWS; it outlives the stack, since losing it loses every secret in
 * the state and every backup.
 */
export class SecretsKey extends pulumi.ComponentResource {
  readonly arn: pulumi.Output<string>;
  /** `awskms://alias/<alias>?region=<region>` is how Pulumi names it. */
  readonly alias: string;

  constructor(name: string, args: SecretsKeyArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mindroom:platform:SecretsKey", name, { alias: args.alias }, opts);
    const child = { parent: this };
    const key = new aws.kms.Key(
      `${name}-key`,
      {
        description: "MindRoom Cloud: Pulumi secrets and backup encryption",
        enableKeyRotation: true,
        deletionWindowInDays: 30,
        tags: { "managed-by": "mindroom-cloud" },
      },
      { ...child, retainOnDelete: true },
    );
    new aws.kms.Alias(`${name}-alias`, { name: `alias/${args.alias}`, targetKeyId: key.keyId }, child);
    this.arn = key.arn;
    this.alias = `alias/${args.alias}`;
    this.registerOutputs({ arn: this.arn, alias: this.alias });
  }
}
