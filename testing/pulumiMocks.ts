/**
 * Runs Pulumi code under the SDK's mocks (no engine, no providers) and records
 * every resource registered, with its inputs as the engine would receive them:
 * secrets stay wrapped, so tests can assert what is secret.
 */
import * as pulumi from "@pulumi/pulumi";

export interface RecordedResource {
  readonly type: string;
  readonly name: string;
  readonly inputs: Record<string, unknown>;
}

const SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

export function isSecret(value: unknown): boolean {
  return (
    typeof value === "object" &&
    value !== null &&
    (value as Record<string, unknown>)[SECRET_SIG_KEY] === SECRET_SIG
  );
}

/** The value inside a secret wrapper (or the value itself). */
export function reveal(value: unknown): unknown {
  return isSecret(value) ? (value as { value: unknown }).value : value;
}

export async function recordResources(
  program: () => void | Promise<void>,
  options: { project?: string; stack?: string; preview?: boolean } = {},
): Promise<RecordedResource[]> {
  const recorded: RecordedResource[] = [];
  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        recorded.push({ type: args.type, name: args.name, inputs: args.inputs });
        return { id: `${args.name}-id`, state: { ...args.inputs, ...mockState(args.type, args.name) } };
      },
      call: (args) => args.inputs,
    },
    options.project ?? "mindroom-tenant",
    options.stack ?? "test",
    options.preview ?? false,
  );
  await program();
  // Registrations are asynchronous; let every pending one reach the mock monitor.
  await new Promise((resolve) => setTimeout(resolve, 50));
  return recorded;
}

/** Outputs real providers would compute, for the resource types tests look at. */
function mockState(type: string, name: string): Record<string, unknown> {
  switch (type) {
    case "aws:iam/accessKey:AccessKey":
      return { id: `AKIA${name.length}MOCK`, secret: `mock-secret-of-${name}` };
    case "aws:iam/user:User":
      return { name: `mock-user-${name}`, arn: `arn:aws:iam::123456789012:user/${name}` };
    case "aws:kms/key:Key":
      return {
        keyId: `mock-key-id-of-${name}`,
        arn: `arn:aws:kms:eu-central-1:123456789012:key/mock-key-id-of-${name}`,
      };
    case "aws:s3/bucket:Bucket":
      return { arn: `arn:aws:s3:::mock-bucket-of-${name}` };
    default:
      return {};
  }
}
