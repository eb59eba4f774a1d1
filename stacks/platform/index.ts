// Entry point for the pulumi CLI (stacks/platform/Pulumi.yaml `main`).
import { platformProgram } from "./program.ts";

export default platformProgram;
