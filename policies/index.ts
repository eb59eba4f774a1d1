// The pack's entry point: the engine runs it through policies/analyzer and talks
// to the gRPC server this constructor starts. Nothing else belongs here (the
// constructor reads package.json from the working directory and serves at once),
// except the watchdog that ends the analyzer with the engine.
import { PolicyPack } from "@pulumi/policy";
import { exitWithEngine } from "./engineWatchdog.ts";
import { PACK_NAME, policies } from "./policies.ts";

exitWithEngine();

new PolicyPack(PACK_NAME, {
  description:
    "Guards every MindRoom Cloud tenant stack: limits, isolation, TLS/DNS, images, secrets, backups, data safety.",
  enforcementLevel: "mandatory",
  policies,
});
