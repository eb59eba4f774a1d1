/**
 * The analyzer ends when the engine that started it is gone. The engine stops
 * its plugins itself when it exits normally, but a killed engine (SIGKILL, an
 * OOM kill, a killed worker) sends nothing, and the analyzer would serve its
 * gRPC port forever. Two signs of a dead engine: the stdin pipe it gives every
 * plugin (and never writes to) reaches end of file, or this process gets
 * another parent.
 */
import { fstatSync } from "node:fs";

export function exitWithEngine(): void {
  const parent = process.ppid;
  if (fstatSync(0).isFIFO()) {
    process.stdin.on("end", () => process.exit(1));
    process.stdin.resume();
  }
  setInterval(() => {
    if (process.ppid !== parent) process.exit(1);
  }, 1_000).unref();
}
