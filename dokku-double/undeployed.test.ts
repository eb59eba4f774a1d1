/** Checklist fact 10 (dokku-cli.md §10): what commands do to an app that was never deployed. */
import { describe, expect, it } from "vitest";
import { dokku, json, newApp, newService, ok, target, uniqueName } from "./testSupport.ts";

describe.concurrent("fact 10: undeployed apps", () => {
  it("ps:stop, ps:start and ps:restart warn and exit 0; ps:rebuild is silent", async () => {
    const app = await newApp();
    const warning = ` !     App ${app} has not been deployed\n`;
    const [stop, start, restart, rebuild] = await Promise.all([
      dokku(`ps:stop ${app}`),
      dokku(`ps:start ${app}`),
      dokku(`ps:restart ${app}`),
      dokku(`ps:rebuild ${app}`),
    ]);
    for (const result of [stop, start, restart])
      expect(result).toEqual({ code: 0, stdout: "", stderr: warning });
    expect(rebuild).toEqual({ code: 0, stdout: "", stderr: "" });
  });

  it("ps:scale only stores the formation", async () => {
    const app = await newApp();
    await ok(`ps:scale ${app} web=3`);
    const [formation, report] = await Promise.all([
      json(`ps:scale ${app} --format json`),
      json<Record<string, string>>(`ps:report ${app} --format json`),
    ]);
    expect(formation).toEqual([{ process_type: "web", quantity: 3 }]);
    expect(report).toMatchObject({ deployed: "false", running: "false" });
  });

  it("postgres:link on an undeployed app only sets config (no restart)", async () => {
    const [app, service] = await Promise.all([newApp(), newService("postgres")]);
    const result = await ok(`postgres:link ${service} ${app}`);
    expect(result.stdout).toMatch(
      /^-----> Setting config vars\n {7}DATABASE_URL: {2}postgres:\/\/postgres:[0-9a-f]{32}@/,
    );
    expect(result.stdout).not.toContain("Restarting");
    const dsn = (await ok(`postgres:info ${service} --dsn`)).stdout.trim();
    expect(await json(`config:export --format json ${app}`)).toMatchObject({ DATABASE_URL: dsn });
  });

  it("apps:create gives <app>.<global domain>, or NO_VHOST=1 when no global domain is set", async () => {
    const global = await json<Record<string, string>>("domains:report --global --format json");
    const app = await newApp();
    const [domains, env] = await Promise.all([
      json<Record<string, string>>(`domains:report ${app} --format json`),
      json<Record<string, string>>(`config:export --format json ${app}`),
    ]);
    if (global["global-enabled"] === "true") {
      const first = (global["global-vhosts"] ?? "").split(" ")[0];
      expect(domains["app-vhosts"]).toContain(`${app}.${first}`);
      expect(env.NO_VHOST).toBeUndefined();
    } else {
      expect(env.NO_VHOST).toBe("1");
      expect(domains).toMatchObject({ "app-enabled": "false", "app-vhosts": "" });
    }
  });

  it("letsencrypt:enable needs domains, then an email, then an http port mapping", async () => {
    const app = await newApp();
    await ok(`domains:clear ${app}`);
    const noDomains = await dokku(`letsencrypt:enable ${app}`);
    expect(noDomains).toMatchObject({ code: 1, stderr: ` !     No domains detected for ${app}\n` });

    await ok(`domains:set ${app} ${app}.example.test`);
    await ok(`letsencrypt:set ${app} email ''`);
    const noEmail = await dokku(`letsencrypt:enable ${app}`);
    expect(noEmail.code).toBe(1);
    expect(noEmail.stderr).toContain(
      " !     ERROR: Cannot request a certificate without an e-mail address!\n",
    );

    await ok(`letsencrypt:set ${app} email ops@example.test`);
    await ok(`ports:set ${app} grpc:50051:50051`);
    const noHttp = await dokku(`letsencrypt:enable ${app}`);
    expect(noHttp.code).toBe(1);
    expect(noHttp.stderr).toContain(`Add one with: dokku ports:add ${app} http:80:<container-port>`);
    expect((await ok(`letsencrypt:active ${app}`)).stdout).toBe("false\n");
  });
});

// Sequential on purpose: it changes the global VHOST, which every apps:create above reads.
describe("fact 10: a global domain (project host only)", () => {
  it.skipIf(!target.isProjectHost)(
    "with a global domain set, a new app gets <app>.<domain> (changes global state: project host only)",
    async () => {
      const domain = `${uniqueName("g")}.example.test`;
      await ok(`domains:add-global ${domain}`);
      try {
        const app = await newApp();
        const [vhosts, env] = await Promise.all([
          ok(`domains:report ${app} --domains-app-vhosts`),
          json<Record<string, string>>(`config:export --format json ${app}`),
        ]);
        expect(vhosts.stdout.split(" ").map((word) => word.trim())).toContain(`${app}.${domain}`);
        expect(env.NO_VHOST).toBeUndefined();
      } finally {
        await ok(`domains:remove-global ${domain}`);
      }
    },
  );
});
