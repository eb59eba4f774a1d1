/** Images: what a tenant runs is pinned by digest, so a redeploy never picks up something new. */
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { inTenant } from "../define.ts";
import { str } from "../props.ts";
import { shortType, TYPES } from "../resourceTypes.ts";

/** `registry/repo[:tag]@sha256:<64 hex>`; the tag, if any, is the capture. */
const PINNED =
  /^[a-z0-9]+(?:[._-][a-z0-9]+)*(?::[0-9]+)?(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)+(?::([A-Za-z0-9_][A-Za-z0-9._-]{0,127}))?@sha256:[a-f0-9]{64}$/;

/** Why an image reference is not acceptably pinned, or undefined when it is. */
export function unpinned(image: string): string | undefined {
  const match = PINNED.exec(image);
  if (!match) return "is not pinned by digest";
  if (match[1] === "latest")
    return "carries the :latest tag (a digest with a moving tag misleads whoever reads it)";
  return undefined;
}

/** Images a command deploys: `git:from-image <app> <image>` in its scripts. */
function deployedImages(script: string): string[] {
  return [...script.matchAll(/\bgit:from-image\s+\S+\s+(\S+)/g)].flatMap((m) => (m[1] ? [m[1]] : []));
}

export const imagesPinnedByDigest: ResourceValidationPolicy = {
  name: "images-pinned-by-digest",
  description:
    "Every image a tenant runs is pinned by digest (registry/repo@sha256:<digest>): no :latest, no bare tags.",
  enforcementLevel: "mandatory",
  remediationSteps: "Use image references like ghcr.io/mindroom-ai/mindroom@sha256:<64 hex digits>.",
  ...inTenant(
    { types: [TYPES.tenant, TYPES.app, TYPES.command], config: [] },
    ({ resource, tenant, report }) => {
      // image → where it appears (a deploy script's create and update repeat the same image).
      const images = new Map<string, string>();
      if (resource.type === TYPES.tenant) {
        for (const [role, image] of Object.entries(tenant.spec.images))
          if (image !== undefined) images.set(image, `spec image ${role}`);
      } else if (resource.type === TYPES.app) {
        images.set(str(resource.props.image) ?? "", `app ${str(resource.props.app)}`);
      } else {
        for (const key of ["create", "update"] as const) {
          for (const image of deployedImages(str(resource.props[key]) ?? "")) {
            images.set(image, `${shortType(resource.type)} ${resource.name} deploys`);
          }
        }
      }
      for (const [image, where] of images) {
        const why = unpinned(image);
        if (why) report(`${where}: image ${JSON.stringify(image)} ${why}; pin it by digest.`);
      }
    },
  ),
};
