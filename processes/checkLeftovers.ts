/**
 * The end of `./platform test`: no process the suite started may still run.
 * Everything the suite starts inherits `MINDROOM_TEST_RUN` (processes/markers.ts);
 * after a settling time (a tether may still be in its grace period), whatever
 * still carries this run's value is listed, ended, and fails the run.
 *
 *   MINDROOM_TEST_RUN=<value> node processes/checkLeftovers.ts [--settle-ms N]
 *
 * Exit codes: 0 nothing left, 1 leftovers found (and ended), 2 usage error.
 */
import { parseArgs } from "node:util";
import { endProcesses, markedProcesses } from "./leftovers.ts";
import { TEST_MARKER } from "./markers.ts";

const USAGE = "Usage: MINDROOM_TEST_RUN=<value> node processes/checkLeftovers.ts [--settle-ms N]\n";

function usageError(message: string): never {
  process.stderr.write(`${message}\n${USAGE}`);
  process.exit(2);
}

let settleMs = 15_000;
try {
  const { values } = parseArgs({ options: { "settle-ms": { type: "string" } } });
  if (values["settle-ms"] !== undefined) settleMs = Number(values["settle-ms"]);
} catch (error) {
  usageError((error as Error).message);
}
if (!Number.isInteger(settleMs) || settleMs < 0) usageError("--settle-ms takes a number of milliseconds");
const marker =
  process.env[TEST_MARKER] ?? usageError(`${TEST_MARKER} is not set: it names the test run to check`);

const deadline = Date.now() + settleMs;
let left = markedProcesses(TEST_MARKER, (value) => value === marker);
while (left.length > 0 && Date.now() < deadline) {
  await new Promise((r) => setTimeout(r, 500));
  left = markedProcesses(TEST_MARKER, (value) => value === marker);
}
if (left.length === 0) {
  process.stdout.write("processes: no process started by the test run is left\n");
  process.exit(0);
}
process.stderr.write(
  `processes: ${left.length} process${left.length === 1 ? "" : "es"} started by the test run still running ${Math.round(settleMs / 1000)} s after it ended (now ended):\n${left.map((l) => `  pid ${l.pid} (${l.name}, since ${l.startedAt.toISOString()}): ${l.command}`).join("\n")}\n`,
);
await endProcesses(left, 5_000);
process.exit(1);
