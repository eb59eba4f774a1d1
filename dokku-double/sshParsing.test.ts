/**
 * Checklist fact 7 (dokku-cli.md §1.2 and §10): how the SSH entry re-parses
 * the command string. Every case sends a raw string and inspects the resulting
 * argv through what Dokku stored or reported.
 */
import { describe, expect, it } from "vitest";
import { type DokkuConnection, runDokku } from "../testing/dokkuClient.ts";
import { parseDokkuUrl } from "../testing/dokkuTarget.ts";
import { dokku, json, newApp, newService, ok, target } from "./testSupport.ts";

async function env(app: string): Promise<Record<string, string>> {
  return json<Record<string, string>>(`config:export --format json ${app}`);
}

describe.concurrent("fact 7: SSH argument parsing", () => {
  it("POSIX single quoting survives: spaces, both single-quote escapes, $(…) unexecuted", async () => {
    const app = await newApp("ssh");
    await ok(`--quiet config:set --no-restart ${app} 'K=a b' 'X=$(id)' 'Q1=it'"'"'s' 'Q2=it'\\''s' Y=1`);
    expect(await env(app)).toMatchObject({ K: "a b", X: "$(id)", Q1: "it's", Q2: "it's", Y: "1" });
  });

  it("an unquoted $(id) is not executed either, and a glob stays literal", async () => {
    const app = await newApp("ssh");
    await ok(`--quiet config:set --no-restart ${app} X=$(id) G=* H=/etc/*`);
    expect(await env(app)).toMatchObject({ X: "$(id)", G: "*", H: "/etc/*" });
  });

  it("a quoted cron expression arrives as one argument", async () => {
    const service = await newService("postgres");
    await ok(`postgres:backup-schedule ${service} '0 3 * * *' my-bucket`);
    const cat = await ok(`postgres:backup-schedule-cat ${service}`);
    expect(cat.stdout.startsWith("0 3 * * * dokku ")).toBe(true);
    expect(cat.stdout).toContain(`postgres:backup ${service} my-bucket`);
  });

  it("an empty argument in the middle survives", async () => {
    const app = await newApp("ssh");
    const result = await dokku(`config:set --no-restart ${app} A=1 '' B=2`);
    expect(result).toMatchObject({ code: 1, stderr: " !     Invalid env pair: \n" });
  });

  it("a trailing empty argument is dropped", async () => {
    const app = await newApp("ssh");
    const result = await ok(`letsencrypt:set ${app} email ''`);
    expect(result.stdout).toBe("=====> Unsetting email\n");
  });

  it("double quotes group words, and a backslash inside them is literal", async () => {
    const app = await newApp("ssh");
    await ok(`--quiet config:set --no-restart ${app} "D=two words" "B=back\\slash"`);
    expect(await env(app)).toMatchObject({ D: "two words", B: "back\\slash" });
  });

  it("the quoted command word works for ordinary commands", async () => {
    const app = await newApp("ssh");
    const result = await dokku(`'apps:exists' ${app}`);
    expect(result.code).toBe(0);
  });

  it("--force anywhere on the line turns force on, even inside a quoted value", async () => {
    const app = await newApp("ssh");
    const result = await dokku(`apps:destroy ${app} 'reason --force here'`);
    expect(result.code).toBe(0);
    expect((await dokku(`apps:exists ${app}`)).code).toBe(20);
  });
});

describe.concurrent("argument mangling by xargs and /bin/echo", () => {
  it("an argument that is exactly -n disappears", async () => {
    const app = await newApp("mangle");
    const result = await ok(`config:set --no-restart ${app} -n N=1`);
    expect(result.stdout).toBe("-----> Setting config vars\n       N:  1\n");
  });

  it("an argument that is exactly -e becomes an empty argument", async () => {
    const app = await newApp("mangle");
    const result = await dokku(`config:set --no-restart ${app} -e`);
    expect(result).toMatchObject({ code: 1, stderr: " !     Invalid env pair: \n" });
  });

  it("a newline inside a quoted argument aborts; the words before it still run", async () => {
    const app = await newApp("mangle");
    const result = await dokku(`config:set --no-restart ${app} 'K=line1\nline2'`);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("xargs: unmatched single quote");
    expect(result.stderr).toContain(" !     At least one env pair must be given\n");
    expect((await dokku(`config:get ${app} K`)).code).toBe(1);
  });

  it("git:* commands are split on whitespace with no quote processing", async () => {
    const app = await newApp("mangle");
    const result = await dokku(`git:from-image ${app} 'nginx:alpine'`);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(" !     Failed to pull image: 'nginx:alpine'\n");
  });

  it("a quoted 'git:from-image' is not a dokku command (the git branch keeps the quotes)", async () => {
    const app = await newApp("mangle");
    const result = await dokku(`'git:from-image' ${app} nginx:alpine`);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      ` !     \`'git:from-image' ${app} nginx:alpine\` is not a dokku command.\n !     See \`dokku help\` for a list of available commands.\n`,
    );
  });
});

const shellAvailable = target.isProjectHost || process.env.MINDROOM_TEST_DOKKU_SHELL !== undefined;

describe.skipIf(!shellAvailable)(
  `the shell-user path, ssh root@host dokku …${shellAvailable ? "" : " (skipped: set MINDROOM_TEST_DOKKU_SHELL for an external host)"}`,
  { concurrent: true },
  () => {
    const shell = (): DokkuConnection => ({ ...target, ...parseDokkuUrl(target.shellUrl) });

    it("runs a script through a real shell: quoting is the shell's, not xargs'", async () => {
      const app = await newApp("shell");
      const script = [
        "set -e",
        `dokku --quiet config:set --no-restart ${app} 'K=$(id) "q" it'"'"'s'`,
        `dokku config:get ${app} K`,
        `dokku apps:exists ${app} && echo exists`,
      ].join("\n");
      const result = await runDokku(shell(), script);
      expect(result).toMatchObject({ code: 0, stdout: `$(id) "q" it's\nexists\n` });
    });

    it("has no /bin/echo step: an argument -n reaches dokku (and is an unknown flag)", async () => {
      const app = await newApp("shell");
      const result = await runDokku(shell(), `dokku config:set --no-restart ${app} -n K=v`);
      expect(result.code).toBe(2);
      expect(result.stderr.split("\n")[0]).toBe("unknown shorthand flag: 'n' in -n");
    });

    it("passes stdin through to dokku", async () => {
      const app = await newApp("shell");
      await runDokku(shell(), `dokku --quiet config:import --no-restart ${app} -`, {
        stdin: "FROM_STDIN=yes\n",
      });
      expect(await env(app)).toMatchObject({ FROM_STDIN: "yes" });
    });
  },
);
