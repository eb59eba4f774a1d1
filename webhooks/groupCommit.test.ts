import { describe, expect, it } from "vitest";
import { GroupCommit } from "./groupCommit.ts";

/** A writer whose batches finish only when the test says so, recording what it was given. */
function controlledWriter() {
  const batches: number[][] = [];
  const pending: { resolve: () => void; reject: (e: Error) => void }[] = [];
  const write = (items: readonly number[]) => {
    batches.push([...items]);
    return new Promise<number[]>((resolve, reject) => {
      pending.push({ resolve: () => resolve(items.map((n) => n * 10)), reject });
    });
  };
  /** Waits until the writer has been given `count` batches. */
  const written = async (count: number) => {
    while (batches.length < count) await new Promise((resolve) => setImmediate(resolve));
  };
  return { write, batches, pending, written };
}

describe("GroupCommit", () => {
  it("writes a lone item at once, and the items arriving meanwhile together in the next batch", async () => {
    const writer = controlledWriter();
    const group = new GroupCommit(writer.write);
    const first = group.submit(1);
    await writer.written(1);
    const rest = [group.submit(2), group.submit(3), group.submit(4)];
    expect(writer.batches).toEqual([[1]]);
    writer.pending[0]?.resolve();
    expect(await first).toBe(10);
    await writer.written(2);
    expect(writer.batches).toEqual([[1], [2, 3, 4]]);
    writer.pending[1]?.resolve();
    expect(await Promise.all(rest)).toEqual([20, 30, 40]);
  });

  it("answers an item only once its own batch is written", async () => {
    const writer = controlledWriter();
    const group = new GroupCommit(writer.write);
    let answered = false;
    const answer = group.submit(7).then((result) => {
      answered = true;
      return result;
    });
    await writer.written(1);
    for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
    expect(answered).toBe(false);
    writer.pending[0]?.resolve();
    expect(await answer).toBe(70);
  });

  it("caps a batch at maxBatch items; the rest go in the following one", async () => {
    const writer = controlledWriter();
    const group = new GroupCommit(writer.write, { maxBatch: 2 });
    const all = [group.submit(1)];
    await writer.written(1);
    all.push(group.submit(2), group.submit(3), group.submit(4));
    writer.pending[0]?.resolve();
    await writer.written(2);
    writer.pending[1]?.resolve();
    await writer.written(3);
    writer.pending[2]?.resolve();
    expect(await Promise.all(all)).toEqual([10, 20, 30, 40]);
    expect(writer.batches).toEqual([[1], [2, 3], [4]]);
  });

  it("writes a failed batch again item by item: only the bad item fails", async () => {
    const batches: number[][] = [];
    const group = new GroupCommit(async (items: readonly number[]) => {
      batches.push([...items]);
      if (items.includes(13)) throw new Error(`cannot write 13`);
      return items.map((n) => n + 1);
    });
    const blocker = group.submit(0);
    const results = await Promise.allSettled([group.submit(12), group.submit(13), group.submit(14), blocker]);
    expect(results.map((r) => (r.status === "fulfilled" ? r.value : (r.reason as Error).message))).toEqual([
      13,
      "cannot write 13",
      15,
      1,
    ]);
    expect(batches).toEqual([[0], [12, 13, 14], [12], [13], [14]]);
  });

  it("keeps going after a failed lone item", async () => {
    let fail = true;
    const group = new GroupCommit(async (items: readonly number[]) => {
      if (fail) {
        fail = false;
        throw new Error("database restarting");
      }
      return items;
    });
    await expect(group.submit(1)).rejects.toThrow("database restarting");
    expect(await group.submit(2)).toBe(2);
  });

  it("refuses a writer that answers a different number of results", async () => {
    const group = new GroupCommit(async () => [1, 2]);
    await expect(group.submit(1)).rejects.toThrow("batch writer returned 2 results for 1 items");
  });
});

describe("GroupCommit with splitOn", () => {
  it("fails a whole batch at once when its error is not one item's doing", async () => {
    const batches: number[][] = [];
    const group = new GroupCommit(
      async (items: readonly number[]) => {
        batches.push([...items]);
        if (items.length > 1) throw new Error("connection refused");
        return items;
      },
      { splitOn: (error) => !(error as Error).message.includes("connection") },
    );
    const first = group.submit(0);
    const results = await Promise.allSettled([group.submit(1), group.submit(2), group.submit(3)]);
    expect(await first).toBe(0);
    expect(results.map((r) => r.status)).toEqual(["rejected", "rejected", "rejected"]);
    expect(batches).toEqual([[0], [1, 2, 3]]);
  });
});
