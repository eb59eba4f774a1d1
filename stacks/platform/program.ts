/**
 * The platform stack program: the control plane (a ControlPlane) on its control
 * host. Stack config (namespace `mindroom`): `platform` (JSON: the platform spec,
 * components/platformSpec.ts), `sshPrivateKey` (secret), and each part's
 * environment, `webhooksEnvironment` and `portalEnvironment` (secret JSON
 * objects). The Automation API runs it inline (control/platformStack.ts); the
 * pulumi CLI runs it through this folder's Pulumi.yaml.
 */
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { ControlPlane, type ControlPlaneOutputs } from "../../components/platform/controlPlane.ts";
import { parsePlatformSpec } from "../../components/platformSpec.ts";

export const PLATFORM_PROJECT = "mindroom-platform";

/** A part's environment: variable names as a shell and Dokku take them, string values. */
export const appEnvironment = z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/), z.string());

export async function platformProgram(): Promise<ControlPlaneOutputs> {
  const config = new pulumi.Config("mindroom");
  const spec = parsePlatformSpec(config.requireObject("platform"));
  const environment = (key: string) =>
    config.requireSecret(key).apply((text) => appEnvironment.parse(JSON.parse(text)));
  const controlPlane = new ControlPlane("platform", {
    spec,
    sshPrivateKey: config.requireSecret("sshPrivateKey"),
    environments: {
      webhooks: environment("webhooksEnvironment"),
      portal: environment("portalEnvironment"),
    },
  });
  return controlPlane.outputs;
}
