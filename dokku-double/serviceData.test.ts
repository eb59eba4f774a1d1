/**
 * `<kind>:export` and `<kind>:import` (dokku-cli.md §4.10): a dump on stdout,
 * a dump from stdin, byte for byte, so a backup and restore of a service's data
 * can be checked through Dokku's own commands.
 */
import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { runDokkuBytes } from "../testing/dokkuClient.ts";
import { dokku, newService, ok, target } from "./testSupport.ts";

const exported = async (kind: string, service: string) => {
  const result = await runDokkuBytes(target, `${kind}:export ${service}`);
  expect(result.code, result.stderr).toBe(0);
  return result.stdout;
};

describe.concurrent.each(["postgres", "redis"] as const)("%s data", (kind) => {
  it("imports a dump from stdin and exports it again byte for byte", async () => {
    const service = await newService(kind);
    const before = await exported(kind, service);
    expect(before.length).toBeGreaterThan(0);
    // Every byte value, so nothing on the way (SSH, argument parsing, the double) may touch them.
    const dump = Buffer.concat([Buffer.from([...Array(256).keys()]), randomBytes(64 * 1024)]);
    await ok(`${kind}:import ${service}`, { stdin: dump });
    expect((await exported(kind, service)).equals(dump)).toBe(true);
    // Another service's data is its own.
    const other = await newService(kind);
    expect((await exported(kind, other)).equals(dump)).toBe(false);
  });

  it("refuses an empty import and keeps the data", async () => {
    const service = await newService(kind);
    const dump = randomBytes(1024);
    await ok(`${kind}:import ${service}`, { stdin: dump });
    const empty = await dokku(`${kind}:import ${service}`);
    expect(empty.code).toBe(1);
    expect(empty.stderr).not.toBe("");
    expect((await exported(kind, service)).equals(dump)).toBe(true);
  });

  it("says a missing service does not exist", async () => {
    const result = await dokku(`${kind}:export nope-${kind}-missing`);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/does not exist/);
  });
});
