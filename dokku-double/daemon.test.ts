/**
 * The project's host serves commands from one long-running daemon, like a real
 * Dokku host answers over SSH without starting a runtime per command: commands
 * for different apps run side by side, commands for one app queue behind each
 * other, and an injected per-command latency (a distant host) is part of that
 * queue. Ordering and overlap are asserted, never durations.
 */
import { describe, expect, it, vi } from "vitest";
import type { LoggedCommand } from "./faultControl.ts";
import { dokku, newApp, ok, target } from "./testSupport.ts";

const faults = target.faults;
const literal = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
/** Far longer than an SSH command takes on a loaded machine, so "still waiting" is unambiguous. */
const LATENCY_MS = 20_000;

async function logged(command: string): Promise<LoggedCommand | undefined> {
  return ((await target.commandLog?.()) ?? []).find((entry) => entry.argv.join(" ") === command);
}

describe.skipIf(!faults || !target.execTrace)(
  `the double's daemon${faults ? "" : ` (skipped: ${target.faultsUnavailable ?? ""})`}`,
  () => {
    it("starts no Node process per command: the entry script hands the command to the daemon's client", async () => {
      const app = await newApp("daemon");
      const trace = await target.execTrace?.();
      const result = await dokku(`config:set --no-restart ${app} VIA=daemon`);
      const execs = (await trace?.stop()) ?? [];
      expect(result.code).toBe(0);
      const programs = execs.map((exec) => exec.argv[0] ?? "");
      expect(programs.some((program) => program.endsWith("/double/client"))).toBe(true);
      expect(programs.filter((program) => /(^|\/)node$/.test(program))).toEqual([]);
      expect((await ok(`config:get ${app} VIA`)).stdout).toBe("daemon\n");
    });

    it("runs commands for different apps side by side and queues commands for one app, latency included", async () => {
      const [slowApp, otherApp] = await Promise.all([newApp("daemon"), newApp("daemon")]);
      const slow = new RegExp(`^apps:exists ${literal(slowApp)}$`);
      await faults?.setDelay(LATENCY_MS, { match: slow });
      try {
        let slowSettled = false;
        const slowCommand = dokku(`apps:exists ${slowApp}`).finally(() => {
          slowSettled = true;
        });
        // Logged once its state work is done: from here on it is waiting out its latency.
        await vi.waitFor(async () => expect(await logged(`apps:exists ${slowApp}`)).toBeDefined(), {
          timeout: 60_000,
          interval: 100,
        });
        const sameApp = dokku(`config:set --no-restart ${slowApp} AFTER=slow`);
        const other = await dokku(`config:set --no-restart ${otherApp} BESIDE=slow`);
        expect(other.code).toBe(0);
        // The other app's command finished while the slow one still waited.
        expect(slowSettled).toBe(false);
        const [slowResult, sameResult] = await Promise.all([slowCommand, sameApp]);
        expect(slowResult.code).toBe(0);
        expect(sameResult.code).toBe(0);
        // The same app's command, though it had no latency of its own, changed the state only
        // after the slow one's latency was over (the log's end = start + duration, latency included).
        const end = (entry: LoggedCommand | undefined): number =>
          entry ? Date.parse(entry.at) + entry.durationMs : Number.NaN;
        const slowEntry = await logged(`apps:exists ${slowApp}`);
        expect(slowEntry?.delayMs).toBe(LATENCY_MS);
        expect(end(await logged(`config:set --no-restart ${slowApp} AFTER=slow`))).toBeGreaterThanOrEqual(
          end(slowEntry),
        );
        expect(end(await logged(`config:set --no-restart ${otherApp} BESIDE=slow`))).toBeLessThan(
          end(slowEntry),
        );
      } finally {
        await faults?.setDelay(0, { match: slow });
      }
    });
  },
);
