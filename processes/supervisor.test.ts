/**
 * Supervised children on real processes: exit status and signals pass through
 * tether, stop() ends a whole tree, and nothing a supervised child started
 * survives its owner, whatever ends the owner; a platform run ends what a
 * crashed run left behind and never signals an unrelated process. Every check
 * goes through /proc.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { afterAll, describe, expect, it } from "vitest";
import { type ProcessSnapshot, snapshotTree, survivors } from "../testing/processTree.ts";
import type { Leftover } from "./leftovers.ts";
import { RUN_MARKER, TEST_MARKER } from "./markers.ts";
import { descendantsOf, environValue, isRunning, processInfo } from "./procfs.ts";
import { recordChildrenIn, supervise } from "./supervisor.ts";

const OWNER = join(import.meta.dirname, "testing", "owner.ts");
const scratch = mkdtempSync(join(tmpdir(), "mindroom-processes-"));
const started: ChildProcess[] = [];

afterAll(() => {
  for (const child of started)
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  rmSync(scratch, { recursive: true, force: true });
});

interface OwnerLine {
  readonly ended: Leftover[];
  readonly crashed?: { pid: number };
  readonly marker?: string;
  readonly children: { name: string; pid: number }[];
}

/** Starts processes/testing/owner.ts and reads its first line. */
async function startOwner(spec: object): Promise<{ owner: ChildProcess; line: OwnerLine }> {
  const owner = spawn(process.execPath, [OWNER, JSON.stringify(spec)], { stdio: ["ignore", "pipe", "pipe"] });
  started.push(owner);
  let stderr = "";
  owner.stderr?.on("data", (chunk) => {
    stderr += chunk;
  });
  const lines = createInterface({ input: owner.stdout as NodeJS.ReadableStream });
  const line = await new Promise<OwnerLine>((resolve, reject) => {
    lines.once("line", (text) => resolve(JSON.parse(text) as OwnerLine));
    owner.once("exit", (code) => reject(new Error(`owner exited with ${code}: ${stderr}`)));
  });
  return { owner, line };
}

async function until(what: string, probe: () => boolean, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe("supervise", () => {
  it("passes the exit code and the signal through", async () => {
    expect(await supervise("code", "sh", ["-c", "exit 7"]).exited).toEqual({ code: 7, signal: null });
    expect(await supervise("signal", "sh", ["-c", "kill -TERM $$"]).exited).toEqual({
      code: null,
      signal: "SIGTERM",
    });
  });

  it("stops with the stop signal, and kills the whole tree of a child that ignores it after the grace", async () => {
    const polite = supervise("polite", "sleep", ["600"], { stopSignal: "SIGINT" });
    await until("sleep to start", () => polite.programPid() !== undefined);
    expect(await polite.stop()).toEqual({ code: null, signal: "SIGINT" });

    const stubborn = supervise("stubborn", "sh", ["-c", 'trap "" TERM; setsid sleep 600 & sleep 600; wait']);
    await until("both sleeps", () => descendantsOf(stubborn.pid).length >= 3);
    const tree = snapshotTree(stubborn.pid);
    const begun = Date.now();
    await stubborn.stop({ graceMs: 500 });
    expect(Date.now() - begun).toBeGreaterThanOrEqual(450);
    expect(await survivors(tree, 2_000)).toEqual([]);
  });

  it("carries Node's IPC channel like fork()", async () => {
    const echo = supervise(
      "echo",
      process.execPath,
      [
        "-e",
        "process.on('message', (m) => (m === 'bye' ? process.disconnect() : process.send({ back: m, pid: process.pid })))",
      ],
      { stdio: ["ignore", "inherit", "inherit", "ipc"] },
    );
    echo.child.send("ping");
    const [reply] = (await once(echo.child, "message")) as [{ back: string; pid: number }];
    expect(reply.back).toBe("ping");
    expect(reply.pid).toBe(echo.programPid());
    expect(processInfo(reply.pid)?.ppid).toBe(echo.pid);
    echo.child.send("bye");
    expect((await echo.exited).code).toBe(0);
  });

  it("records a pid file with the start time while the child runs", async () => {
    const dir = join(scratch, "pids");
    recordChildrenIn(dir);
    try {
      const first = supervise("sleeper", "sleep", ["600"]);
      const second = supervise("sleeper", "sleep", ["600"]);
      expect([first.name, second.name]).toEqual(["sleeper", "sleeper-2"]);
      const record = JSON.parse(readFileSync(join(dir, "sleeper.json"), "utf8"));
      expect(record).toMatchObject({ name: "sleeper", pid: first.pid, command: "sleep" });
      expect(record.startTicks).toBe(processInfo(first.pid)?.startTicks);
      await Promise.all([first.stop(), second.stop()]);
      expect(existsSync(join(dir, "sleeper.json"))).toBe(false);
      expect(existsSync(join(dir, "sleeper-2.json"))).toBe(false);
    } finally {
      recordChildrenIn(undefined);
    }
  });

  it("passes the marker variables on, even to a child given an environment of its own", async () => {
    const previous = process.env[TEST_MARKER];
    process.env[TEST_MARKER] = "marker-check";
    try {
      const child = supervise("marked", "sleep", ["600"], { env: { PATH: process.env.PATH } });
      await until("sleep to start", () => child.programPid() !== undefined);
      expect(environValue(child.programPid() ?? 0, TEST_MARKER)).toBe("marker-check");
      await child.stop();
    } finally {
      if (previous === undefined) delete process.env[TEST_MARKER];
      else process.env[TEST_MARKER] = previous;
    }
  });
});

describe("nothing outlives its owner", () => {
  // A child with a grandchild in a session of its own (as the Pulumi engine starts its plugins),
  // and one that ignores the signal its owner's death sends it.
  const children = [
    { name: "family", command: "sh", args: ["-c", "setsid sleep 600 & sleep 600 & wait"] },
    { name: "deaf", command: "sh", args: ["-c", 'trap "" TERM; sleep 600; wait'], graceMs: 1_000 },
  ];

  it.each(["SIGKILL", "SIGTERM", "SIGINT"] as const)("when the owner gets %s", async (signal) => {
    const { owner, line } = await startOwner({ children });
    const pids = line.children.map((c) => c.pid);
    await until("every child's tree", () => pids.every((pid) => descendantsOf(pid).length >= 2));
    const tree: ProcessSnapshot[] = snapshotTree(owner.pid ?? 0);
    expect(tree.map((p) => p.comm)).toEqual(expect.arrayContaining(["tether", "sh", "sleep"]));
    owner.kill(signal);
    expect(await survivors(tree, 5_000)).toEqual([]);
  });
});

describe("a platform run", () => {
  it("ends what a crashed run left running, reports it, and leaves unrelated processes alone", async () => {
    const dataDir = join(scratch, "crashed");
    const first = await startOwner({
      dataDir,
      children: [{ name: "sleeper", command: "sh", args: ["-c", "sleep 600 & wait"] }],
    });
    const tether = first.line.children[0]?.pid ?? 0;
    await until("the sleeper", () => descendantsOf(tether).length >= 2);
    // A real leftover: a stopped tether cannot act on its owner's death.
    process.kill(tether, "SIGSTOP");
    const stranded = snapshotTree(tether);
    // One the pid files do not know, only carrying the run's marker (like a plugin orphaned by a killed engine).
    const orphan = spawn("sleep", ["601"], {
      env: { ...process.env, [RUN_MARKER]: first.line.marker },
      stdio: "ignore",
    });
    started.push(orphan);
    // A pid file naming a live process that is not the one recorded (a reused pid).
    const unrelated = spawn("sleep", ["602"], { stdio: "ignore" });
    started.push(unrelated);
    const reused = {
      name: "reused",
      pid: unrelated.pid,
      startTicks: 1,
      bootId: "x",
      command: "x",
      graceMs: 0,
    };
    writeFileSync(join(dataDir, "run", "children", "reused.json"), JSON.stringify(reused));
    first.owner.kill("SIGKILL");
    await once(first.owner, "exit");
    expect(stranded.every((p) => isRunning(p.pid, p.startTicks))).toBe(true);

    const second = await startOwner({ dataDir });
    expect(second.line.crashed?.pid).toBe(first.owner.pid);
    const ended = second.line.ended.map((l) => ({ name: l.name, pid: l.pid }));
    expect(ended).toEqual(
      expect.arrayContaining([
        { name: "sleeper", pid: tether },
        { name: "sleep", pid: orphan.pid },
      ]),
    );
    expect(ended).toHaveLength(2);
    expect(await survivors(stranded, 1_000)).toEqual([]);
    expect(isRunning(orphan.pid ?? 0)).toBe(false);
    expect(isRunning(unrelated.pid ?? 0)).toBe(true);
    expect(existsSync(join(dataDir, "run", "children", "reused.json"))).toBe(false);

    // A second platform on the same folder is refused while this one runs.
    await expect(startOwner({ dataDir })).rejects.toThrow(/another platform \(pid \d+.*\) runs on/);
    second.owner.kill("SIGTERM");
    await once(second.owner, "exit");
    expect(existsSync(join(dataDir, "run", "platform.json"))).toBe(false);
    // After a clean stop, the next run has nothing to report.
    const third = await startOwner({ dataDir });
    expect([third.line.crashed, third.line.ended]).toEqual([undefined, []]);
    third.owner.kill("SIGTERM");
    await once(third.owner, "exit");
  });
});
