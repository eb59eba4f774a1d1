// Entry point for the pulumi CLI (Pulumi.yaml `main`): the runtime calls the
// default export and uses its result as the stack outputs.
import { tenantProgram } from "./tenantProgram.ts";

export default tenantProgram;
