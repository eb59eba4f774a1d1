/**
 * Fault injection on the project's own test host. Every rule is scoped with
 * `match` to this test's unique app, because other test files share the host
 * and run in parallel.
 */
import { describe, expect, it } from "vitest";
import { type DokkuConnection, runDokku } from "../testing/dokkuClient.ts";
import { parseDokkuUrl } from "../testing/dokkuTarget.ts";
import { dokku, newApp, ok, target, uniqueName } from "./testSupport.ts";

const faults = target.faults;
const reason = target.faultsUnavailable ?? "";
const literal = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

describe.skipIf(!faults)(
  `fault injection${faults ? "" : ` (skipped: ${reason})`}`,
  { concurrent: true },
  () => {
    it("fails the nth matching command instead of running it", async () => {
      const app = await newApp("fault");
      await faults?.failNth(2, { exitCode: 42, stderr: "injected failure", match: new RegExp(literal(app)) });
      const first = await dokku(`--quiet config:set --no-restart ${app} K=1`);
      const second = await dokku(`--quiet config:set --no-restart ${app} K=2`);
      const third = await dokku(`config:get ${app} K`);
      expect(first.code).toBe(0);
      expect(second).toEqual({ code: 42, stdout: "", stderr: "injected failure\n" });
      // The failed command never ran: the value is still the first one.
      expect(third).toMatchObject({ code: 0, stdout: "1\n" });
    });

    it("fails the next command matching a regex and leaves others alone", async () => {
      const app = await newApp("fault");
      await faults?.failNext(new RegExp(`^ps:scale ${literal(app)}`), {
        exitCode: 1,
        stderr: " !     Connection to docker lost",
      });
      const unrelated = await dokku(`apps:exists ${app}`);
      const failed = await dokku(`ps:scale ${app} web=2`);
      const retried = await dokku(`ps:scale ${app} web=2`);
      expect(unrelated.code).toBe(0);
      expect(failed).toMatchObject({ code: 1, stderr: " !     Connection to docker lost\n" });
      expect(retried.code).toBe(0);
      const mine = (await faults?.pending())?.filter((rule) => rule.match?.source.includes(literal(app)));
      expect(mine).toEqual([]);
    });

    it("drops the connection before the command changes state: ssh exits 255, nothing happened", async () => {
      const app = uniqueName("drop");
      await faults?.dropNth(1, { when: "before", match: new RegExp(`apps:create ${literal(app)}$`) });
      const dropped = await dokku(`apps:create ${app}`);
      expect(dropped.code).toBe(255);
      expect(dropped.stdout).toBe("");
      expect((await dokku(`apps:exists ${app}`)).code).toBe(20);
    });

    it("drops the connection after the state change: ssh exits 255, but the change is there", async () => {
      const app = uniqueName("drop");
      await faults?.dropNth(1, { when: "after", match: new RegExp(`apps:create ${literal(app)}$`) });
      const dropped = await dokku(`apps:create ${app}`);
      expect(dropped.code).toBe(255);
      expect((await dokku(`apps:exists ${app}`)).code).toBe(0);
      // A client that retries blindly now meets "Name is already taken": why probes come first.
      expect((await dokku(`apps:create ${app}`)).stderr).toBe(" !     Name is already taken\n");
    });

    it("drops the connection on the shell-user path too (ssh root@host dokku …)", async () => {
      const app = uniqueName("drop");
      await faults?.dropNth(1, { when: "after", match: new RegExp(`apps:create ${literal(app)}$`) });
      const shell: DokkuConnection = { ...target, ...parseDokkuUrl(target.shellUrl) };
      const dropped = await runDokku(shell, `dokku apps:create ${app}; echo "script went on"`);
      expect(dropped.code).toBe(255);
      expect(dropped.stdout).not.toContain("script went on");
      expect((await dokku(`apps:exists ${app}`)).code).toBe(0);
    });

    it("delays matching commands (slow host) and records it in the command log", async () => {
      const app = await newApp("slow");
      const match = new RegExp(literal(app));
      await faults?.setDelay(600, { match });
      const started = Date.now();
      const slow = await ok(`apps:exists ${app}`).finally(() => faults?.setDelay(0, { match }));
      const elapsed = Date.now() - started;
      expect(slow.code).toBe(0);
      expect(elapsed).toBeGreaterThanOrEqual(600);
      const log = (await target.commandLog?.()) ?? [];
      const entry = log.filter((line) => line.argv.join(" ") === `apps:exists ${app}`).at(-1);
      expect(entry).toMatchObject({ exitCode: 0, delayMs: 600, fault: null, raw: `apps:exists ${app}` });
      expect(entry?.durationMs).toBeGreaterThanOrEqual(600);
    });

    it("holds a matching command's answer until released: its change is made, its client waits", async () => {
      const app = uniqueName("held");
      const hold = await faults?.hold(new RegExp(`^apps:create ${literal(app)}$`));
      let answered = false;
      const held = dokku(`apps:create ${app}`).then((result) => {
        answered = true;
        return result;
      });
      try {
        await expect.poll(() => hold?.reached(), { timeout: 10_000 }).toBe(1);
        // Commands for other apps are not held, and see the held one's change already made (one
        // for the same app would queue behind it, as on Dokku).
        expect((await ok("apps:list")).stdout.split("\n")).toContain(app);
        await new Promise((resolve) => setTimeout(resolve, 300));
        expect(answered).toBe(false);
      } finally {
        await hold?.release();
      }
      expect((await held).code).toBe(0);
    });

    it("logs every command with argv, exit code and duration", async () => {
      const app = uniqueName("log");
      await dokku(`apps:exists ${app}`);
      await dokku(`--quiet apps:create ${app}`);
      const log = (await target.commandLog?.()) ?? [];
      const mine = log.filter((line) => line.argv.includes(app));
      expect(mine.map((line) => [line.argv, line.exitCode])).toEqual([
        [["apps:exists", app], 20],
        [["apps:create", app], 0],
      ]);
      for (const line of mine) expect(line.durationMs).toBeGreaterThan(0);
    });
  },
);
