/** Where toolchain/ensure.sh puts what it builds: the ignored `.tools/` folder (`MINDROOM_TOOLS_DIR` overrides it). */
import { join, resolve } from "node:path";

export function toolsDir(): string {
  return process.env.MINDROOM_TOOLS_DIR ?? join(resolve(import.meta.dirname, ".."), ".tools");
}
