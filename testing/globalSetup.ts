/**
 * Starts one Dokku test host for the whole test run (unless MINDROOM_TEST_DOKKU
 * points at an existing host) and stops it in teardown. Workers reach it through
 * `dokkuTarget()`. A host that cannot start (not root, no sshd) does not abort
 * the run: suites that need it fail with the reason, the others still run.
 * Also starts the run's one embedded Postgres (see testing/database.ts), its
 * one Mailpit (testing/mailpit.ts) and its one local object store
 * (testing/objectStore.ts).
 */
import type { TestProject } from "vitest/node";
import { type DokkuHost, startDokkuHost } from "../dokku-double/host.ts";
// One embedded Postgres for the whole run (testing/database.ts; it loads no vitest runtime at import).
import { provideTestPostgres } from "./database.ts";
// Type-only: brings in the ProvidedContext augmentation without loading vitest's runtime here.
import type { ProvidedDokkuHost } from "./dokkuTarget.ts";
import { provideTestMailpit } from "./mailpit.ts";
import { provideTestObjectStore } from "./objectStore.ts";

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // Start alongside the Dokku host; every return below waits for them.
  const services = Promise.all([
    provideTestPostgres(project),
    provideTestMailpit(project),
    provideTestObjectStore(project),
  ]);
  const stopServices = async () => {
    await Promise.all((await services).map((stop) => stop()));
  };
  if (process.env.MINDROOM_TEST_DOKKU) {
    project.provide("dokkuHost", null);
    project.provide("dokkuHostError", "");
    await services;
    return stopServices;
  }
  let host: DokkuHost;
  try {
    host = await startDokkuHost();
  } catch (error) {
    project.provide("dokkuHost", null);
    project.provide("dokkuHostError", (error as Error).message);
    await services;
    return stopServices;
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
  await services;
  return async () => {
    await Promise.all([host.stop(), stopServices()]);
  };
}
