/**
 * The host stack program: one Dokku host made ready for tenants (a DokkuHost).
 * Stack config (namespace `mindroom`): `host` (JSON: url, hostKey, globalDomain,
 * letsencryptEmail) and `sshPrivateKey` (secret). The Automation API runs it
 * inline (fleet/hostStacks.ts); the pulumi CLI runs it through this folder's
 * Pulumi.yaml.
 */
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { DokkuHost } from "../../components/dokkuHost.ts";
import { SSH_TARGET, sshTarget } from "../../components/tenantSpec.ts";

export const HOST_PROJECT = "mindroom-host";

export const hostStackConfig = z.object({
  url: z.string().regex(SSH_TARGET, "must be ssh://user@host:port"),
  hostKey: z.string().regex(/^(ssh-ed25519|ecdsa-sha2-nistp256|ssh-rsa) [A-Za-z0-9+/=]+$/),
  globalDomain: z.string(),
  letsencryptEmail: z.string(),
});
export type HostStackConfig = z.infer<typeof hostStackConfig>;

export interface HostOutputs {
  readonly url: string;
  readonly plugins: Readonly<Record<string, string>>;
  readonly globalDomain: string;
}

export async function hostProgram(): Promise<HostOutputs> {
  const config = new pulumi.Config("mindroom");
  const spec = hostStackConfig.parse(config.requireObject("host"));
  const { host, port, user } = sshTarget(spec.url);
  const dokku = new DokkuHost("host", {
    connection: {
      host,
      port,
      user,
      hostKey: spec.hostKey,
      privateKey: config.requireSecret("sshPrivateKey"),
    },
    globalDomain: spec.globalDomain,
    letsencryptEmail: spec.letsencryptEmail,
  });
  return { url: spec.url, plugins: dokku.plugins, globalDomain: dokku.globalDomain };
}
