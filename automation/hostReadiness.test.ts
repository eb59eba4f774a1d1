import { describe, expect, it } from "vitest";
import { atLeast, hostReadiness, parsePluginList } from "./hostReadiness.ts";

const PLUGINS = `plugn: 0.15.0
  00_dokku-standard    0.38.27  enabled    dokku core 00_dokku-standard plugin
  apps                 0.38.27  enabled    dokku core apps plugin
  letsencrypt          0.25.1   enabled    Automated installation of let's encrypt TLS certificates
  postgres             1.48.0   enabled    dokku postgres service plugin
  redis                1.43.0   enabled    dokku redis service plugin
`;
const READY = {
  version: "dokku version 0.38.27\n",
  pluginList: PLUGINS,
  cronJob: "       Run 'dokku letsencrypt:cron-job --remove' to disable.\n",
  globalDomains: '{"global-enabled":"true","global-vhosts":"mindroom.chat"}\n',
};

describe("host readiness", () => {
  it("is ready with Dokku 0.38, the three plugins, the renewal cron and a global domain", () => {
    expect(hostReadiness(READY)).toEqual({
      ready: true,
      problems: [],
      dokkuVersion: "0.38.27",
      plugins: { postgres: "1.48.0", redis: "1.43.0", letsencrypt: "0.25.1" },
      autorenew: true,
      globalDomains: ["mindroom.chat"],
    });
  });

  it("names every missing part, each with what to do", () => {
    const readiness = hostReadiness({
      version: "dokku version 0.37.9\n",
      pluginList: PLUGINS.replace(/^ {2}redis.*\n/m, "").replace("1.48.0", "1.40.2"),
      cronJob: "       Run 'dokku letsencrypt:cron-job --add' to enable.\n",
      globalDomains: '{"global-enabled":"false","global-vhosts":""}\n',
    });
    expect(readiness.ready).toBe(false);
    expect(readiness.problems).toEqual([
      "Dokku 0.37.9 is older than 0.38.0: upgrade it",
      "the postgres plugin is 1.40.2, older than 1.48.0: run mindroom-ops hosts up",
      "the redis plugin is not installed: run mindroom-ops hosts up",
      "Let's Encrypt certificates would not renew (no cron job): run mindroom-ops hosts up",
      "no global domain is set (domains:set-global): run mindroom-ops hosts up",
    ]);
  });

  it("a machine without Dokku is not ready, and says so first", () => {
    const readiness = hostReadiness({ version: "", pluginList: "", cronJob: "", globalDomains: "" });
    expect(readiness.ready).toBe(false);
    expect(readiness.dokkuVersion).toBeNull();
    expect(readiness.problems[0]).toMatch(/^dokku does not answer/);
    // Without the letsencrypt plugin the missing cron is not a separate problem.
    expect(readiness.problems.filter((p) => p.includes("cron job"))).toEqual([]);
  });

  it("compares versions numerically", () => {
    expect(atLeast("0.38.27", "0.38.0")).toBe(true);
    expect(atLeast("0.38.0", "0.38.0")).toBe(true);
    expect(atLeast("0.4.10", "0.38.0")).toBe(false);
    expect(atLeast("1.0", "0.38.27")).toBe(true);
    expect(parsePluginList("plugn: dev\n  x  1.2  disabled  y\n")).toEqual({});
  });
});
