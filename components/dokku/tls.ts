import * as pulumi from "@pulumi/pulumi";
import { certificateTar } from "./certificateTar.ts";
import { type DokkuHost, dokkuScript, hostCommand } from "./host.ts";

export type TlsMode =
  | { readonly mode: "letsencrypt"; readonly email: string }
  | {
      readonly mode: "origin-certificate";
      /** Cloudflare origin certificate and key (PEM), Pulumi secrets. */
      readonly certificate: pulumi.Input<string>;
      readonly key: pulumi.Input<string>;
    };

export interface DokkuTlsArgs {
  readonly host: DokkuHost;
  readonly app: string;
  /** The domains the certificate covers (already set on the app). */
  readonly domains: readonly string[];
  readonly tls: TlsMode;
}

/**
 * TLS for an app's domains, after its first deploy: Let's Encrypt on the host
 * (idempotent by design: it asks ACME only when needed), or a Cloudflare origin
 * certificate uploaded through `certs:add` (overwrite).
 */
export class DokkuTls extends pulumi.ComponentResource {
  readonly domains: readonly string[];
  readonly mode: TlsMode["mode"];

  constructor(name: string, args: DokkuTlsArgs, opts?: pulumi.ComponentResourceOptions) {
    const { host, app, tls } = args;
    super("mindroom:dokku:Tls", name, { app, domains: args.domains, mode: tls.mode }, opts);
    const script = () => dokkuScript(host);
    if (tls.mode === "letsencrypt") {
      hostCommand(
        `${name}-letsencrypt`,
        host,
        {
          create: script()
            .run("letsencrypt:set", [app, "email", tls.email])
            .run("letsencrypt:enable", [app])
            .toString(),
          delete: script()
            .ifPresent(["apps:exists", [app]], ["letsencrypt:disable", [app]])
            .toString(),
          // A new domain needs a new certificate.
          triggers: [...args.domains],
        },
        { parent: this },
      );
    } else {
      hostCommand(
        `${name}-certificate`,
        host,
        {
          create: script().run("certs:add", [app]).toString(),
          stdin: pulumi.all([tls.certificate, tls.key]).apply(([crt, key]) => certificateTar(crt, key)),
          delete: script()
            .ifReport(["certs:report", [app, "--ssl-enabled"]], "true", ["certs:remove", [app]])
            .toString(),
        },
        { parent: this },
      );
    }
    this.domains = args.domains;
    this.mode = tls.mode;
    this.registerOutputs({ domains: args.domains, mode: tls.mode });
  }
}
