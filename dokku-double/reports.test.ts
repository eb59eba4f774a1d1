/**
 * Checklist facts 3 and 4 (dokku-cli.md §10): where output goes and what
 * `--quiet` really does; how `:report` renders raw values, JSON and errors.
 */
import { describe, expect, it } from "vitest";
import { dokku, json, newApp, ok } from "./testSupport.ts";

describe.concurrent("fact 3: output format", () => {
  it("info lines go to stdout, nothing to stderr on success", async () => {
    const app = await newApp();
    const result = await ok(`ps:scale ${app} web=2`);
    expect(result.stdout).toBe(`-----> Scaling ${app} processes: web=2\n`);
    expect(result.stderr).toBe("");
  });

  it("warnings go to stderr with the ' !     ' prefix", async () => {
    const app = await newApp();
    const result = await ok(`ps:stop ${app}`);
    expect(result.stdout).toBe("");
    expect(result.stderr).toBe(` !     App ${app} has not been deployed\n`);
  });

  it("--quiet before the command word strips headers", async () => {
    const app = await newApp();
    const [loud, quiet, quietReport] = await Promise.all([
      ok("apps:list"),
      ok("--quiet apps:list"),
      ok(`--quiet apps:report ${app}`),
    ]);
    expect(loud.stdout.startsWith("=====> My Apps\n")).toBe(true);
    expect(quiet.stdout).not.toContain("=====>");
    expect(quiet.stdout.split("\n")).toContain(app);
    expect(quietReport.stdout).not.toContain("=====>");
    expect(quietReport.stdout).toMatch(/^ {7}App created at: +\d+$/m);
  });

  it("--quiet after the command word is an unknown flag for Go subcommands: exit 2", async () => {
    const result = await dokku("apps:list --quiet");
    expect(result.code).toBe(2);
    expect(result.stderr.split("\n")[0]).toBe("unknown flag: --quiet");
    expect(result.stdout).toBe("");
  });

  it("--quiet does not silence every info line", async () => {
    const app = await newApp();
    const result = await ok(`--quiet ps:scale ${app} web=1`);
    expect(result.stdout).toBe(`-----> Scaling ${app} processes: web=1\n`);
  });

  it("an unknown command is reported on stderr with exit 1", async () => {
    const result = await dokku("frobnicate:now some args");
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      " !     `frobnicate:now some args` is not a dokku command.\n !     See `dokku help` for a list of available commands.\n",
    );
  });
});

describe.concurrent("fact 4: reports", () => {
  it("one info flag prints just the raw value", async () => {
    const app = await newApp();
    const [locked, dir, deployed] = await Promise.all([
      ok(`apps:report ${app} --app-locked`),
      ok(`apps:report ${app} --app-dir`),
      ok(`ps:report ${app} --deployed`),
    ]);
    expect(locked.stdout).toBe("false\n");
    expect(dir.stdout).toMatch(new RegExp(`^/.+/${app.replaceAll(".", "\\.")}\\n$`));
    expect(deployed.stdout).toBe("false\n");
  });

  it("an unknown info flag fails with the list of valid flags", async () => {
    const app = await newApp();
    const result = await dokku(`apps:report ${app} --app-nonsense`);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /^ ! {5}Invalid flag passed, valid flags: --app-created-at, --app-deploy-source, /,
    );
  });

  it("--format json is one line of strings, prefix-stripped, with legacy keys for apps", async () => {
    const app = await newApp();
    const result = await ok(`apps:report ${app} --format json`);
    expect(result.stdout.trimEnd().split("\n")).toHaveLength(1);
    const data = JSON.parse(result.stdout) as Record<string, unknown>;
    for (const value of Object.values(data)) expect(typeof value).toBe("string");
    expect(data).toMatchObject({ locked: "false", "app-locked": "false", "deploy-source": "" });
    expect(data["created-at"]).toMatch(/^\d+$/);
  });

  it("domains and certs reports emit only the stripped keys", async () => {
    const app = await newApp();
    const [domains, certs] = await Promise.all([
      json<Record<string, string>>(`domains:report ${app} --format json`),
      json<Record<string, string>>(`certs:report ${app} --format json`),
    ]);
    expect(Object.keys(domains).sort()).toEqual([
      "app-enabled",
      "app-vhosts",
      "global-enabled",
      "global-vhosts",
    ]);
    expect(certs).toMatchObject({ enabled: "false" });
    expect(Object.keys(certs).some((key) => key.startsWith("ssl-"))).toBe(false);
  });

  it("--format json together with an info flag is an error; --format=json is an info flag", async () => {
    const app = await newApp();
    const [both, equals] = await Promise.all([
      dokku(`apps:report ${app} --format json --app-locked`),
      dokku(`apps:report ${app} --format=json`),
    ]);
    expect(both).toMatchObject({
      code: 1,
      stderr: " !     --format flag cannot be specified when specifying an info flag\n",
    });
    expect(equals.code).toBe(1);
    expect(equals.stderr).toMatch(/^ ! {5}Invalid flag passed, valid flags:/);
  });

  it("two info flags print nothing and exit 0", async () => {
    const app = await newApp();
    const result = await dokku(`apps:report ${app} --app-locked --app-dir`);
    expect(result).toEqual({ code: 0, stdout: "", stderr: "" });
  });

  it("resource:report has flags only for keys that are set", async () => {
    const app = await newApp();
    expect(await json(`resource:report ${app} --format json`)).toEqual({});
    await ok(`resource:limit --memory 512 ${app}`);
    const [value, unset, data] = await Promise.all([
      ok(`resource:report ${app} --resource-_default_.limit.memory`),
      dokku(`resource:report ${app} --resource-_default_.limit.cpu`),
      json<Record<string, string>>(`resource:report ${app} --format json`),
    ]);
    expect(value.stdout).toBe("512\n");
    expect(unset.code).toBe(1);
    expect(unset.stderr).toContain("Invalid flag passed");
    expect(data).toEqual({ "_default_.limit.memory": "512", "resource-_default_.limit.memory": "512" });
  });

  it("letsencrypt:report with an info flag whose value is empty fails with 'not deployed'", async () => {
    const app = await newApp();
    const [email, active] = await Promise.all([
      dokku(`letsencrypt:report ${app} --letsencrypt-email`),
      ok(`letsencrypt:report ${app} --letsencrypt-active`),
    ]);
    expect(email).toMatchObject({ code: 1, stderr: " !     not deployed\n" });
    expect(active.stdout).toBe("false\n");
  });

  it("a report of a missing app exits 20", async () => {
    const result = await dokku("network:report no-such-app-here --format json");
    expect(result).toMatchObject({ code: 20, stderr: " !     App no-such-app-here does not exist\n" });
  });
});
