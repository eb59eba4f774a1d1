/**
 * The root suite's global setup: one embedded Postgres and one Dokku test host for the run
 * (testing/globalSetup.ts). The end-to-end tests' reconcile worker provisions tenants on that host.
 */
export { default } from "../../testing/globalSetup.ts";
