// The pack's entry point: the engine runs it through policies/analyzer and talks
// to the gRPC server this constructor starts. Nothing else belongs here (the
// constructor reads package.json from the working directory and serves at once).
import { PolicyPack } from "@pulumi/policy";
import { PACK_NAME, policies } from "./policies.ts";

new PolicyPack(PACK_NAME, {
  description:
    "Guards every MindRoom Cloud tenant stack: limits, isolation, TLS/DNS, images, secrets, backups, data safety.",
  enforcementLevel: "mandatory",
  policies,
});
