/**
 * The scan that ends `./platform test` (checkLeftovers.ts), run for real on
 * real processes: it names, ends and fails on the processes carrying its own
 * run's marker, and only those. The machine is shared (other test runs, other
 * people's shells), so another run's marker, a value that merely begins like
 * this run's, the same value in another variable, and unmarked processes are
 * left alone.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { TEST_MARKER } from "./markers.ts";
import { isRunning } from "./procfs.ts";

const CHECK = join(import.meta.dirname, "checkLeftovers.ts");
const RUN = `test-scan-${process.pid}-${Date.now()}`;
const started: ChildProcess[] = [];

afterAll(() => {
  for (const child of started)
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
});

/** `sleep` with exactly `env` (and PATH): not this test's own markers. */
function sleeper(seconds: number, env: Record<string, string>): ChildProcess {
  const child = spawn("sleep", [String(seconds)], {
    env: { PATH: process.env.PATH ?? "", ...env },
    stdio: "ignore",
  });
  started.push(child);
  return child;
}

function scan(
  env: Record<string, string>,
  settleMs: number,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env };
  if (!(TEST_MARKER in env)) delete childEnv[TEST_MARKER];
  return new Promise((done) => {
    execFile(
      process.execPath,
      [CHECK, "--settle-ms", String(settleMs)],
      { env: childEnv },
      (error, stdout, stderr) =>
        done({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe("the suite's leftover scan", () => {
  it("fails naming the run's own leftovers, ends them, and touches nothing else", async () => {
    const leftover = sleeper(600, { [TEST_MARKER]: RUN });
    const others = [
      sleeper(600, { [TEST_MARKER]: `test-other-${process.pid}` }),
      sleeper(600, { [TEST_MARKER]: `${RUN}0` }),
      sleeper(600, { MINDROOM_RUN: RUN, SOMETHING: RUN }),
      sleeper(600, {}),
    ];
    // Ends within the settling time, as a tether in its grace period does: not a leftover.
    const settling = sleeper(1, { [TEST_MARKER]: RUN });

    const result = await scan({ [TEST_MARKER]: RUN }, 4_000);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("1 process started by the test run still running");
    expect(result.stderr).toContain(`pid ${leftover.pid} (sleep, since `);
    for (const other of [...others, settling]) expect(result.stderr).not.toContain(`pid ${other.pid} `);
    expect(isRunning(leftover.pid ?? 0)).toBe(false);
    expect(others.map((o) => isRunning(o.pid ?? 0))).toEqual([true, true, true, true]);

    expect(await scan({ [TEST_MARKER]: RUN }, 0)).toMatchObject({
      code: 0,
      stdout: "processes: no process started by the test run is left\n",
    });
  });

  it("refuses to run without a marker naming the run", async () => {
    const result = await scan({}, 0);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`${TEST_MARKER} is not set`);
  });
});
