/** The resource type tokens the pack judges (as registered by components/ and the providers). */
export const TYPES = {
  stack: "pulumi:pulumi:Stack",
  tenant: "mindroom:index:MindRoomTenant",
  /** The platform stack's (stacks/platform/): the control plane, no tenant. */
  controlPlane: "mindroom:platform:ControlPlane",
  network: "mindroom:dokku:Network",
  service: "mindroom:dokku:Service",
  app: "mindroom:dokku:App",
  tls: "mindroom:dokku:Tls",
  serviceBackup: "mindroom:dokku:ServiceBackup",
  dnsRecord: "mindroom:dns:Record",
  backupCredentials: "mindroom:backup:Credentials",
  command: "command:remote:Command",
  cloudflareRecord: "cloudflare:index/dnsRecord:DnsRecord",
  iamUser: "aws:iam/user:User",
  iamUserPolicy: "aws:iam/userPolicy:UserPolicy",
  iamAccessKey: "aws:iam/accessKey:AccessKey",
} as const;

export type ResourceType = (typeof TYPES)[keyof typeof TYPES];

/** Provider resources and the stack itself belong to no tenant. */
export function isInfrastructure(type: string): boolean {
  return type === TYPES.stack || type.startsWith("pulumi:providers:");
}

/** `mindroom:dokku:App` → `App`, for messages. */
export function shortType(type: string): string {
  return type.split(/[:/]/).pop() ?? type;
}
