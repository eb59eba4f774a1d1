/**
 * A tenant's MindRoom sign-in as its runtime would serve it (testing/runtime/platform_auth.py: the
 * checks of mindroom/api/auth.py with PyJWT), started from the environment the tenant's stack
 * really gave its runtime app (`config:export` on the Dokku host). The runtime itself needs
 * Python >= 3.12 and cannot run here.
 */
import { join } from "node:path";
import { startPython, stopChild } from "./pythonTools.ts";

export interface RuntimeAuth {
  /** `http://127.0.0.1:<port>`: serves what the tenant's public origin would. */
  readonly url: string;
  stop(): Promise<void>;
}

/** The runtime env names platform_auth.py reads (the rest of the app's env stays out of its process). */
const AUTH_NAMES = [
  "MINDROOM_PUBLIC_URL",
  "MINDROOM_PLATFORM_SSO_SECRET",
  "MINDROOM_PLATFORM_SSO_URL",
  "ACCOUNT_ID",
  "SUPABASE_URL",
  "SUPABASE_ANON_KEY",
] as const;

export async function startRuntimeAuth(runtimeEnv: Readonly<Record<string, string>>): Promise<RuntimeAuth> {
  const env: Record<string, string> = {};
  for (const name of AUTH_NAMES) if (runtimeEnv[name] !== undefined) env[name] = runtimeEnv[name];
  const started = await startPython([join(import.meta.dirname, "runtime", "platform_auth.py")], { env });
  const { port } = JSON.parse(started.firstLine) as { port: number };
  return { url: `http://127.0.0.1:${port}`, stop: () => stopChild(started.child) };
}
