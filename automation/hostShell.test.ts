/**
 * Read-only Dokku commands in one SSH session to the Dokku test host, as drift and host probes run
 * them: each command's exit code and output come back framed, and an operation that is cancelled
 * (or runs out of time) ends its reads at once instead of waiting on a slow or hung host.
 */
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { dokkuTarget } from "../testing/dokkuTarget.ts";
import { hostKeyOf } from "../testing/engineStack.ts";
import { HostShellError, runDokkuReads } from "./hostShell.ts";

const target = dokkuTarget();
const access = {
  url: target.shellUrl,
  hostKey: hostKeyOf(target),
  privateKey: readFileSync(target.keyPath, "utf8"),
};

describe("host reads", () => {
  it("answers each command's exit code and output in order", async () => {
    const app = `reads-${randomBytes(3).toString("hex")}`;
    const [version, missing] = await runDokkuReads(access, ["version", `apps:exists ${app}`]);
    expect(version).toMatchObject({ code: 0, stdout: expect.stringMatching(/\d+\.\d+\.\d+/) });
    expect(missing?.code).toBe(20);
  });

  it.skipIf(!target.faults)(
    `end at once when the operation's signal aborts, the host still busy${target.faults ? "" : ` (skipped: ${target.faultsUnavailable})`}`,
    async () => {
      const app = `held-${randomBytes(3).toString("hex")}`;
      const hold = await target.faults?.hold(new RegExp(`^apps:exists ${app}$`));
      const controller = new AbortController();
      try {
        const reading = runDokkuReads(access, [`apps:exists ${app}`], { signal: controller.signal });
        await expect.poll(() => hold?.reached(), { timeout: 30_000 }).toBe(1);
        controller.abort();
        await expect(reading).rejects.toThrow(HostShellError);
        await expect(reading).rejects.toThrow(/cancelled/);
        // Nothing starts once the signal has aborted.
        await expect(runDokkuReads(access, ["version"], { signal: controller.signal })).rejects.toThrow(
          /cancelled before it started/,
        );
      } finally {
        await hold?.release();
      }
    },
  );
});
