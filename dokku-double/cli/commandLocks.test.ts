import { describe, expect, it } from "vitest";
import { commandSubject, SubjectLocks } from "./commandLocks.ts";

describe("command subjects", () => {
  it("is the --app flag, else the first argument that is not a flag", () => {
    expect(commandSubject(["config:set", "--no-restart", "my-app", "K=v"], "")).toBe("my-app");
    expect(commandSubject(["postgres:link", "db", "my-app"], "")).toBe("db");
    expect(commandSubject(["config:set", "K=v"], "flagged")).toBe("flagged");
    expect(commandSubject(["apps:list"], "")).toBeNull();
    expect(commandSubject(["ps:report", "--format", ""], "")).toBeNull();
  });
});

describe("subject locks", () => {
  /** A piece of work that runs until released, recording when it started and ended. */
  function gate(events: string[], name: string): { work: () => Promise<string>; release: () => void } {
    let release = (): void => undefined;
    const done = new Promise<void>((resolve) => {
      release = resolve;
    });
    return {
      work: async () => {
        events.push(`${name} start`);
        await done;
        events.push(`${name} end`);
        return name;
      },
      release: () => release(),
    };
  }

  it("queues work on one subject in arrival order and lets other subjects through", async () => {
    const locks = new SubjectLocks();
    const events: string[] = [];
    const a1 = gate(events, "a1");
    const a2 = gate(events, "a2");
    const b = gate(events, "b");
    const free = gate(events, "free");
    const running = [
      locks.run("a", a1.work),
      locks.run("a", a2.work),
      locks.run("b", b.work),
      locks.run(null, free.work),
    ];
    await new Promise((resolve) => setImmediate(resolve));
    expect([...events].sort()).toEqual(["a1 start", "b start", "free start"]);
    expect(locks.busy().sort()).toEqual(["a", "b"]);
    b.release();
    free.release();
    a1.release();
    await running[0];
    await new Promise((resolve) => setImmediate(resolve));
    expect(events).toContain("a2 start");
    expect(events.indexOf("a2 start")).toBeGreaterThan(events.indexOf("a1 end"));
    a2.release();
    expect(await Promise.all(running)).toEqual(["a1", "a2", "b", "free"]);
    expect(locks.busy()).toEqual([]);
  });

  it("releases the subject when the work fails", async () => {
    const locks = new SubjectLocks();
    await expect(locks.run("a", () => Promise.reject(new Error("boom")))).rejects.toThrow("boom");
    expect(await locks.run("a", async () => "next")).toBe("next");
    expect(locks.busy()).toEqual([]);
  });
});
