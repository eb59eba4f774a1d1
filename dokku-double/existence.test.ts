/**
 * Checklist facts 1 and 2 (dokku-cli.md §10): how a missing app looks to every
 * plugin, and that creation commands are not idempotent (clients must probe).
 */
import { describe, expect, it } from "vitest";
import { dokku, MISSING_APP_EXIT, newApp, newService, ok, track, uniqueName } from "./testSupport.ts";

describe.concurrent("fact 1: app existence", () => {
  it("apps:exists prints nothing for an existing app and exits 0", async () => {
    const app = await newApp();
    const result = await dokku(`apps:exists ${app}`);
    expect(result).toEqual({ code: 0, stdout: "", stderr: "" });
  });

  it("apps:exists on a missing app exits 20 with the message on stderr", async () => {
    const app = uniqueName("missing");
    const result = await dokku(`apps:exists ${app}`);
    expect(result.code).toBe(MISSING_APP_EXIT);
    expect(result.stdout).toBe("");
    expect(result.stderr).toBe(` !     App ${app} does not exist\n`);
  });

  it("every app-scoped command exits 20 on a missing app, Go and bash plugins alike", async () => {
    const app = uniqueName("missing");
    const service = await newService("postgres");
    const commands = [
      `config:set --no-restart ${app} K=v`,
      `config:get ${app} K`,
      `config:export --format json ${app}`,
      `apps:report ${app} --format json`,
      `ps:scale ${app} web=1`,
      `ps:report ${app}`,
      `domains:add ${app} example.com`,
      `domains:report ${app}`,
      `resource:limit --memory 512 ${app}`,
      `resource:report ${app}`,
      `postgres:link ${service} ${app}`,
      `letsencrypt:active ${app}`,
      `git:from-image ${app} nginx:alpine`,
      `certs:report ${app}`,
    ];
    const results = await Promise.all(commands.map((command) => dokku(command)));
    results.forEach((result, i) => {
      expect({ command: commands[i], code: result.code }).toEqual({
        command: commands[i],
        code: MISSING_APP_EXIT,
      });
      expect(result.stderr).toContain(` !     App ${app} does not exist`);
    });
  });

  it("a malformed name fails the name check first, with exit 1", async () => {
    const [exists, create] = await Promise.all([dokku("apps:exists Bad_Name"), dokku("apps:create UPPER")]);
    const message =
      " !     App name must begin with lowercase alphanumeric character, and may only contain lowercase alphanumerics, dots, and hyphens\n";
    expect(exists).toMatchObject({ code: 1, stderr: message });
    expect(create).toMatchObject({ code: 1, stderr: message });
  });
});

describe.concurrent("fact 2: creation is not idempotent", () => {
  it("apps:create of an existing app fails with 'Name is already taken'", async () => {
    const app = await newApp();
    const again = await dokku(`apps:create ${app}`);
    expect(again.code).toBe(1);
    expect(again.stderr).toBe(" !     Name is already taken\n");
  });

  it("postgres:create and redis:create refuse an existing service; :exists is the probe", async () => {
    const [pg, redis] = await Promise.all([newService("postgres"), newService("redis")]);
    const [pgAgain, redisAgain, pgExists, redisExists] = await Promise.all([
      dokku(`postgres:create ${pg}`),
      dokku(`redis:create ${redis}`),
      dokku(`--quiet postgres:exists ${pg}`),
      dokku(`redis:exists ${redis}`),
    ]);
    expect(pgAgain).toMatchObject({ code: 1, stderr: ` !     Postgres service ${pg} already exists\n` });
    expect(redisAgain).toMatchObject({ code: 1, stderr: ` !     Redis service ${redis} already exists\n` });
    // Not quiet-suppressible: the plugin uses dokku_log_info1.
    expect(pgExists).toMatchObject({ code: 0, stdout: `-----> Service ${pg} exists\n` });
    expect(redisExists).toMatchObject({ code: 0, stdout: `-----> Service ${redis} exists\n` });
  });

  it("postgres:exists on a missing service exits 1", async () => {
    const name = uniqueName("pg");
    const result = await dokku(`postgres:exists ${name}`);
    expect(result).toMatchObject({
      code: 1,
      stdout: "",
      stderr: ` !     Postgres service ${name} does not exist\n`,
    });
  });

  it("network:create twice fails; network:exists is the probe", async () => {
    const network = track("network", uniqueName("net"));
    await ok(`network:create ${network}`);
    const [again, exists, quietExists, missing] = await Promise.all([
      dokku(`network:create ${network}`),
      dokku(`network:exists ${network}`),
      dokku(`--quiet network:exists ${network}`),
      dokku(`network:exists ${uniqueName("net")}`),
    ]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain("Unable to create network");
    expect(exists).toMatchObject({ code: 0, stdout: "-----> Network exists\n" });
    expect(quietExists).toMatchObject({ code: 0, stdout: "" });
    expect(missing).toMatchObject({ code: 1, stderr: " !     Network does not exist\n" });
  });

  it("postgres:link twice fails with 'Already linked as DATABASE_URL'; :linked is the probe", async () => {
    const [app, service] = await Promise.all([newApp(), newService("postgres")]);
    const notYet = await dokku(`postgres:linked ${service} ${app}`);
    expect(notYet).toMatchObject({ code: 1, stderr: ` !     Service ${service} is not linked to ${app}\n` });
    await ok(`--quiet postgres:link ${service} ${app}`);
    const [again, linked] = await Promise.all([
      dokku(`postgres:link ${service} ${app}`),
      dokku(`postgres:linked ${service} ${app}`),
    ]);
    expect(again).toMatchObject({ code: 1, stderr: " !     Already linked as DATABASE_URL\n" });
    expect(linked).toMatchObject({ code: 0, stdout: `-----> Service ${service} is linked to ${app}\n` });
  });

  it("a second postgres service linked to the same app gets a DOKKU_POSTGRES_<COLOR>_URL", async () => {
    const [app, first, second] = await Promise.all([
      newApp(),
      newService("postgres"),
      newService("postgres"),
    ]);
    await ok(`--quiet postgres:link ${first} ${app}`);
    await ok(`--quiet postgres:link ${second} ${app}`);
    const env = JSON.parse((await ok(`config:export --format json ${app}`)).stdout) as Record<string, string>;
    expect(env.DATABASE_URL).toContain(`@dokku-postgres-${first}:5432/`);
    expect(env.DOKKU_POSTGRES_AQUA_URL).toContain(`@dokku-postgres-${second}:5432/`);
  });
});
