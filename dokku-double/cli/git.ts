/**
 * The git plugin's image deploy path (bash `git:from-image`) and `git:report`.
 * The app must exist (no auto-create); deploying the image the app already runs
 * changes no file in the generated build context, so upstream refuses with
 * "No changes detected" and exit 1. Its arguments arrive whitespace-split with
 * no quote processing (the entry script's git branch).
 */
import type { PluginModule } from "./commands.ts";
import { setConfigVars } from "./configVars.ts";
import type { Ctx } from "./context.ts";
import { rebuildApp } from "./deploy.ts";
import { exitWith, fail } from "./errors.ts";
import { verifyAppBash } from "./names.ts";
import { GLOBAL_SCOPE, propComputed, propGet, propSet } from "./properties.ts";
import { bashPropertySet } from "./propertyCommand.ts";
import { runGoReport } from "./report.ts";

/** Docker's reference grammar, close enough to tell "would pull" from "invalid reference format". */
const IMAGE_REFERENCE =
  /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9.-]*[a-zA-Z0-9])?(?::\d+)?\/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*(?::[\w][\w.-]{0,127})?(?:@sha256:[0-9a-f]{64})?$/;

export function isValidImageReference(image: string): boolean {
  return IMAGE_REFERENCE.test(image);
}

/** `docker image pull` as the double sees it: any well-formed reference "pulls". */
function pullImage(ctx: Ctx, image: string, force: boolean): void {
  const present = ctx.state.images.includes(image);
  if (present && !force) {
    ctx.out.info1("Image exists on host, skipping pull");
    return;
  }
  ctx.out.info1(present ? "Force pulling image" : "Pulling image");
  if (!isValidImageReference(image)) {
    ctx.out.stderrLine("invalid reference format");
    fail(`Failed to pull image: ${image}`);
  }
  ctx.out.line(`Status: Downloaded newer image for ${image}`);
  if (!present) ctx.state.images.push(image);
}

function fromImage(ctx: Ctx, args: string[]): void {
  const positional: string[] = [];
  let buildDir = "";
  let force = false;
  let takeBuildDir = false;
  for (const arg of args) {
    if (arg === "--build-dir") {
      takeBuildDir = true;
      continue;
    }
    if (arg === "--force") {
      force = true;
      continue;
    }
    if (takeBuildDir) {
      buildDir = arg;
      takeBuildDir = false;
      continue;
    }
    positional.push(arg);
  }
  const [name = "", image = ""] = positional;
  const app = verifyAppBash(ctx, name);
  if (image === "") fail("Please specify a docker image");
  if (force) ctx.flags.force = true;

  ctx.out.info1("Generating build context");
  // The double has no server-side directories to sync a build context from.
  if (buildDir !== "") fail("Invalid BUILD_DIR specified for docker build context");
  pullImage(ctx, image, ctx.flags.force);
  propSet(ctx.state, "git", name, "source-image", image);

  ctx.out.info1("Updating git repository with specified build context");
  if (app.deploy !== null && app.deploy.image === image) {
    ctx.out.warn("No changes detected, skipping git commit");
    ctx.out.warn("Call 'ps:rebuild' on app to rebuild the app from existing source");
    exitWith(1);
  }
  const sha = ctx.randomHex(20);
  app.deploy = {
    source: "docker-image",
    metadata: image,
    image,
    sha,
    updatedAt: Math.floor(ctx.now() / 1000),
  };
  const revEnvVar = propGet(ctx.state, "git", name, "rev-env-var") || "GIT_REV";
  if (revEnvVar !== "") setConfigVars(ctx, name, { [revEnvVar]: sha }, { restart: false, quiet: true });
  rebuildApp(ctx, name);
}

const GIT_KEYS = ["deploy-branch", "keep-git-dir", "rev-env-var"];

function set(ctx: Ctx, args: string[]): void {
  const [app = "", key = "", value = ""] = args;
  if (app !== GLOBAL_SCOPE) verifyAppBash(ctx, app);
  if (key === "") fail("No key specified");
  if (!GIT_KEYS.includes(key)) fail(`Invalid key specified, valid keys include: ${GIT_KEYS.join(", ")}`);
  bashPropertySet(ctx, "git", app, key, value);
}

function report(ctx: Ctx, args: string[]): void {
  runGoReport(ctx, args, {
    plugin: "git",
    reportType: "git",
    emitLegacy: false,
    uppercase: true,
    collect(c, app): Record<string, string> {
      const s = c.state;
      const globalValue = (key: string): string => propGet(s, "git", GLOBAL_SCOPE, key);
      const values: Record<string, string> = {
        "--git-computed-archive-max-files": globalValue("archive-max-files") || "10000",
        "--git-computed-archive-max-size": globalValue("archive-max-size") || "1073741824",
        "--git-computed-deploy-branch": propComputed(s, "git", app, "deploy-branch", "master"),
        "--git-computed-keep-git-dir": propComputed(s, "git", app, "keep-git-dir", "false"),
        "--git-global-archive-max-files": globalValue("archive-max-files"),
        "--git-global-archive-max-size": globalValue("archive-max-size"),
        "--git-global-deploy-branch": globalValue("deploy-branch"),
        "--git-global-keep-git-dir": globalValue("keep-git-dir"),
      };
      if (app === GLOBAL_SCOPE) return values;
      const deploy = s.apps[app]?.deploy ?? null;
      return {
        ...values,
        "--git-deploy-branch": propGet(s, "git", app, "deploy-branch"),
        "--git-keep-git-dir": propGet(s, "git", app, "keep-git-dir"),
        "--git-last-updated-at": deploy ? String(deploy.updatedAt) : "",
        "--git-rev-env-var": propGet(s, "git", app, "rev-env-var") || "GIT_REV",
        "--git-sha": deploy?.sha ?? "",
        "--git-source-image": propGet(s, "git", app, "source-image"),
      };
    },
  });
}

export const plugin: PluginModule = {
  core: true,
  commands: { "git:from-image": fromImage, "git:set": set, "git:report": report },
};
