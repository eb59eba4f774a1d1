/** Checklist fact 5 (dokku-cli.md §10): the config plugin's validation, encodings and exit codes. */
import { describe, expect, it } from "vitest";
import { dokku, json, newApp, ok } from "./testSupport.ts";

const b64 = (text: string): string => Buffer.from(text, "utf8").toString("base64");

/** An app whose environment is empty (a new app may carry `NO_VHOST`). */
async function emptyApp(): Promise<string> {
  const app = await newApp("cfg");
  const keys = (await ok(`config:keys ${app}`)).stdout.split("\n").filter((key) => key !== "");
  if (keys.length > 0) await ok(`--quiet config:unset --no-restart ${app} ${keys.join(" ")}`);
  return app;
}

describe.concurrent("fact 5: config", () => {
  it("config:set prints the values it sets, one padded line per key", async () => {
    const app = await newApp("cfg");
    const result = await ok(`config:set --no-restart ${app} A=1 LONGER_KEY=two`);
    expect(result.stdout).toBe(
      "-----> Setting config vars\n       A:           1\n       LONGER_KEY:  two\n",
    );
    expect(result.stderr).toBe("");
  });

  it("rejects invalid keys, pairs without '=', and an empty pair list", async () => {
    const app = await newApp("cfg");
    const [badKey, noEquals, none] = await Promise.all([
      dokku(`config:set --no-restart ${app} 1BAD=x`),
      dokku(`config:set --no-restart ${app} JUSTAKEY`),
      dokku(`config:set --no-restart ${app}`),
    ]);
    expect(badKey).toMatchObject({ code: 1, stderr: " !     Invalid key name: '1BAD'\n" });
    expect(noEquals).toMatchObject({ code: 1, stderr: " !     Invalid env pair: JUSTAKEY\n" });
    expect(none).toMatchObject({ code: 1, stderr: " !     At least one env pair must be given\n" });
  });

  it("--encoded decodes standard base64, so any value (newlines, quotes, $) survives SSH", async () => {
    const app = await newApp("cfg");
    const value = 'line1\nit\'s "quoted" $(id) `x`';
    await ok(`--quiet config:set --encoded --no-restart ${app} SECRET=${b64(value)}`);
    const env = await json<Record<string, string>>(`config:export --format json ${app}`);
    expect(env.SECRET).toBe(value);
  });

  it("invalid base64 fails with Go's error text and the key name", async () => {
    const app = await newApp("cfg");
    const [badChar, badLength] = await Promise.all([
      dokku(`config:set --encoded --no-restart ${app} K=ab*d`),
      dokku(`config:set --encoded --no-restart ${app} K=abc`),
    ]);
    expect(badChar).toMatchObject({
      code: 1,
      stderr: " !     illegal base64 data at input byte 2 for key 'K'\n",
    });
    expect(badLength).toMatchObject({
      code: 1,
      stderr: " !     illegal base64 data at input byte 0 for key 'K'\n",
    });
  });

  it("config:get prints the raw value; a missing key prints nothing and exits 1", async () => {
    const app = await newApp("cfg");
    await ok(`--quiet config:set --no-restart ${app} PRESENT=yes`);
    const [present, quoted, missing] = await Promise.all([
      dokku(`config:get ${app} PRESENT`),
      dokku(`config:get --quoted ${app} PRESENT`),
      dokku(`config:get ${app} ABSENT`),
    ]);
    expect(present).toEqual({ code: 0, stdout: "yes\n", stderr: "" });
    expect(quoted.stdout).toBe("'yes'\n");
    expect(missing).toEqual({ code: 1, stdout: "", stderr: "" });
  });

  it("config:unset of a missing key succeeds and says it skipped it", async () => {
    const app = await newApp("cfg");
    await ok(`--quiet config:set --no-restart ${app} GONE=1`);
    const result = await ok(`config:unset --no-restart ${app} GONE NEVER_SET`);
    expect(result.stdout).toBe(
      "-----> Unsetting GONE\n-----> Skipping NEVER_SET, it is not set in the environment\n",
    );
    expect((await dokku(`config:get ${app} GONE`)).code).toBe(1);
  });

  it("config:export --format json is {} for an empty environment", async () => {
    const app = await emptyApp();
    const result = await ok(`config:export --format json ${app}`);
    expect(result.stdout).toBe("{}\n");
  });

  it("config:export renders exports, envfile and shell formats", async () => {
    const app = await emptyApp();
    await ok(`--quiet config:set --no-restart ${app} B='it'\\''s' A=007 C='x y'`);
    const [exports, envfile, shell] = await Promise.all([
      ok(`config:export ${app}`),
      ok(`config:export --format envfile ${app}`),
      ok(`config:export --format shell ${app}`),
    ]);
    expect(exports.stdout).toBe("export A='007'\nexport B='it'\\''s'\nexport C='x y'\n");
    // godotenv writes integers bare (and normalised) and double-quotes the rest.
    expect(envfile.stdout).toBe('A=7\nB="it\'s"\nC="x y"\n');
    expect(shell.stdout).toBe("A='007' B='it'\\''s' C='x y' ");
  });

  it("config:import reads an envfile or JSON from stdin; --replace drops other keys", async () => {
    const app = await emptyApp();
    await ok(`--quiet config:set --no-restart ${app} OLD=1`);
    const envfile = 'export FROM_FILE="a b"\n# comment\nPLAIN=value # trailing comment\n';
    const imported = await ok(`config:import --no-restart ${app} -`, { stdin: envfile });
    expect(imported.stdout).toContain("-----> Reading config vars from stdin\n");
    expect(await json(`config:export --format json ${app}`)).toEqual({
      FROM_FILE: "a b",
      OLD: "1",
      PLAIN: "value",
    });
    await ok(`--quiet config:import --no-restart --replace --format json ${app} -`, {
      stdin: '{"ONLY":"this"}',
    });
    expect(await json(`config:export --format json ${app}`)).toEqual({ ONLY: "this" });
  });

  it("config:import with nothing to set fails", async () => {
    const app = await newApp("cfg");
    const result = await dokku(`config:import --no-restart ${app} -`, { stdin: "" });
    expect(result).toMatchObject({ code: 1 });
    expect(result.stderr).toContain(" !     No config vars to set\n");
  });

  it("config:set on an undeployed app does not restart it", async () => {
    const app = await newApp("cfg");
    const result = await ok(`config:set ${app} K=v`);
    expect(result.stdout).not.toContain("Restarting app");
  });
});
