/**
 * What a (re)deploy looks like from the outside. No container runs; the double
 * records that the app is deployed and running, bumps its release counter and
 * prints a condensed version of Dokku's release-and-deploy output.
 */
import type { Ctx } from "./context.ts";
import { propGet } from "./properties.ts";
import type { AppState } from "./state.ts";
import { appDomains } from "./vhosts.ts";

export function isDeployed(app: AppState): boolean {
  return app.deployed;
}

/** Formation a first deploy gets when nothing was scaled yet (an image with no Procfile runs `web`). */
function ensureDefaultFormation(app: AppState): void {
  if (Object.keys(app.scale).length === 0) app.scale.web = 1;
}

export function appUrls(ctx: Ctx, name: string): string[] {
  const app = ctx.state.apps[name];
  if (!app) return [];
  const scheme = app.tls ? "https" : "http";
  const domains = appDomains(ctx.state, name);
  if (domains.length === 0)
    return [`http://${name}:${propGet(ctx.state, "proxy", name, "proxy-port") || "80"}`];
  return domains.map((domain) => `${scheme}://${domain}`);
}

/** The `release-and-deploy` / `deploy` trigger output, and the state it leaves behind. */
export function deployApp(ctx: Ctx, name: string): void {
  const app = ctx.state.apps[name];
  if (!app) return;
  ensureDefaultFormation(app);
  const out = ctx.out;
  out.info1(`Releasing ${name}...`);
  out.info1("Checking for predeploy task");
  out.verbose("No predeploy task found, skipping");
  out.info2("Processing deployment checks");
  out.verbose("No healthchecks found in app.json for web process type");
  out.info1(`Deploying ${name} via the docker-local scheduler...`);
  for (const [processType, count] of Object.entries(app.scale).sort()) {
    if (count > 0) out.info1(`Deploying ${processType} (count=${count})`);
  }
  out.info1("Running post-deploy");
  out.info2("Application deployed:");
  for (const url of appUrls(ctx, name)) out.verbose(url);
  app.deployed = true;
  app.running = true;
  app.releases += 1;
}

/** `proxy-build-config` for a deployed app (undeployed apps only get nginx's 502 stub, silently). */
export function buildProxyConfig(ctx: Ctx, name: string): void {
  const app = ctx.state.apps[name];
  if (!app?.deployed) return;
  for (const domain of appDomains(ctx.state, name))
    ctx.out.info1(`Configuring ${domain}...(using built-in template)`);
  ctx.out.info1(app.tls ? "Creating https nginx.conf" : "Creating http nginx.conf");
  ctx.out.verbose("Reloading nginx");
}

/**
 * A git-based build (`git_receive_app`): build from the stored source, then
 * deploy. The deploy lock file is removed afterwards, which also clears a lock
 * left by `apps:lock` (upstream only refuses while another build holds the flock).
 */
export function rebuildApp(ctx: Ctx, name: string): void {
  const app = ctx.state.apps[name];
  if (!app) return;
  ctx.out.info1("Cleaning up...");
  ctx.out.info1(`Building ${name} from Dockerfile`);
  deployApp(ctx, name);
  app.locked = false;
}
