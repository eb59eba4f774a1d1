/**
 * The benchmark's CPU split: a process below the Dokku test host's daemon (or
 * its sshd) counts for the host, everything else we started for the
 * automation layer, while they still run. The children below burn a fixed
 * amount of CPU (measured by themselves), so no wall time is asserted.
 */
import { spawn } from "node:child_process";
import { once } from "node:events";
import { describe, expect, it } from "vitest";
import { treeCpuMs } from "./cpu.ts";

const BURN_MS = 300;
/** Burns BURN_MS of its own CPU, says so, then waits until its stdin closes. */
const BURNER = `const start = process.cpuUsage(); for (;;) { const u = process.cpuUsage(start); if ((u.user + u.system) / 1000 >= ${BURN_MS}) break; } process.stdout.write("burnt\\n"); process.stdin.resume(); process.stdin.on("end", () => process.exit(0));`;

async function whileBurnt(extraArgs: string[]): Promise<{ automation: number; host: number }> {
  const before = treeCpuMs();
  const child = spawn(process.execPath, ["-e", BURNER, ...extraArgs], { stdio: ["pipe", "pipe", "inherit"] });
  try {
    await once(child.stdout, "data");
    const after = treeCpuMs();
    return { automation: after.automation - before.automation, host: after.host - before.host };
  } finally {
    child.stdin.end();
    await once(child, "exit");
  }
}

describe("CPU per side", () => {
  it("counts a running process below the double's daemon for the host", async () => {
    const delta = await whileBurnt(["/run/dokku-double/host-x/double/cli/daemon.js"]);
    expect(delta.host).toBeGreaterThanOrEqual(BURN_MS * 0.8);
  });

  it("counts any other running child for the automation layer", async () => {
    const delta = await whileBurnt([]);
    expect(delta.automation).toBeGreaterThanOrEqual(BURN_MS * 0.8);
    expect(delta.host).toBe(0);
  });
});
