// Entry point for the pulumi CLI (stacks/host/Pulumi.yaml `main`).
import { hostProgram } from "./program.ts";

export default hostProgram;
