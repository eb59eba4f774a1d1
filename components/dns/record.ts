import * as cloudflare from "@pulumi/cloudflare";
import * as pulumi from "@pulumi/pulumi";

export interface DnsRecordArgs {
  readonly zoneId: string;
  /** Fully qualified record name, e.g. `acme.mindroom.chat`. */
  readonly name: string;
  /** The Dokku host's public address (IPv4 gives an A record, IPv6 an AAAA record). */
  readonly address: string;
  /** Serve through Cloudflare's proxy (then Cloudflare's edge terminates TLS). */
  readonly proxied: boolean;
}

/** One Cloudflare DNS record pointing a tenant domain at its Dokku host. */
export class DnsRecord extends pulumi.ComponentResource {
  readonly record: cloudflare.DnsRecord;

  constructor(name: string, args: DnsRecordArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mindroom:dns:Record", name, { ...args }, opts);
    this.record = new cloudflare.DnsRecord(
      `${name}-record`,
      {
        zoneId: args.zoneId,
        name: args.name,
        type: args.address.includes(":") ? "AAAA" : "A",
        content: args.address,
        proxied: args.proxied,
        ttl: 1, // "automatic", the only TTL a proxied record takes
        comment: "managed by MindRoom Cloud",
      },
      { parent: this },
    );
    this.registerOutputs({ name: args.name });
  }
}
