/**
 * Starts one Dokku test host for the whole test run (unless MINDROOM_TEST_DOKKU
 * points at an existing host) and stops it in teardown. Workers reach it through
 * `dokkuTarget()`. A host that cannot start (not root, no sshd) does not abort
 * the run: suites that need it fail with the reason, the others still run.
 */
import type { TestProject } from "vitest/node";
import { type DokkuHost, startDokkuHost } from "../dokku-double/host.ts";
// Type-only: brings in the ProvidedContext augmentation without loading vitest's runtime here.
import type { ProvidedDokkuHost } from "./dokkuTarget.ts";

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  if (process.env.MINDROOM_TEST_DOKKU) {
    project.provide("dokkuHost", null);
    project.provide("dokkuHostError", "");
    return async () => undefined;
  }
  let host: DokkuHost;
  try {
    host = await startDokkuHost();
  } catch (error) {
    project.provide("dokkuHost", null);
    project.provide("dokkuHostError", (error as Error).message);
    return async () => undefined;
  }
  const provided: ProvidedDokkuHost = {
    url: host.url,
    shellUrl: host.shellUrl,
    host: host.host,
    port: host.port,
    user: host.user,
    keyPath: host.keyPath,
    knownHostsPath: host.knownHostsPath,
    hostPublicKey: host.hostPublicKey,
    stateDir: host.stateDir,
  };
  project.provide("dokkuHost", provided);
  project.provide("dokkuHostError", "");
  return () => host.stop();
}
