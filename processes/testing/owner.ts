/**
 * A process that owns supervised children, for tests that kill owners:
 *
 *   node processes/testing/owner.ts '{"dataDir": "/tmp/x", "children": [{"name": "sleeper", "command": "sleep", "args": ["600"]}]}'
 *
 * With `dataDir` it is a platform run on that folder (processes/run.ts). Prints
 * one JSON line (what the run ended, each child's name and tether pid), then
 * waits; SIGTERM stops the children and exits.
 */
import { startRun } from "../run.ts";
import { type SuperviseOptions, supervise } from "../supervisor.ts";

interface ChildSpec {
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly stopSignal?: SuperviseOptions["stopSignal"];
  readonly graceMs?: number;
}

const spec = JSON.parse(process.argv[2] ?? "{}") as { dataDir?: string; children?: ChildSpec[] };
const run = spec.dataDir ? await startRun(spec.dataDir) : undefined;
const children = (spec.children ?? []).map((c) =>
  supervise(c.name, c.command, c.args, {
    stdio: "ignore",
    ...(c.stopSignal ? { stopSignal: c.stopSignal } : {}),
    ...(c.graceMs === undefined ? {} : { graceMs: c.graceMs }),
  }),
);
process.stdout.write(
  `${JSON.stringify({ ended: run?.ended ?? [], crashed: run?.crashed, marker: run?.marker, children: children.map((c) => ({ name: c.name, pid: c.pid })) })}\n`,
);
process.once("SIGTERM", async () => {
  await Promise.all(children.map((c) => c.stop()));
  run?.finish();
  process.exit(0);
});
setInterval(() => undefined, 1 << 30);
