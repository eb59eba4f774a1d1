/**
 * Checklist facts 6, 8 and 9 (dokku-cli.md §10): destructive commands need
 * `--force`; which commands are idempotent by design; which are traps.
 */
import { describe, expect, it } from "vitest";
import { runDokku } from "../testing/dokkuClient.ts";
import { parseDokkuUrl } from "../testing/dokkuTarget.ts";
import { dokku, json, newApp, newService, ok, target, track, uniqueName } from "./testSupport.ts";

/** A command in the host's shell (`ssh root@host …`), as provisioning scripts run them. */
function shell(command: string, stdin?: string) {
  const { user } = parseDokkuUrl(target.shellUrl);
  return runDokku({ ...target, user }, command, stdin === undefined ? {} : { stdin });
}

describe.concurrent("fact 6: destructive commands need --force", () => {
  it("apps:destroy without --force prompts, reads no answer from stdin, and changes nothing", async () => {
    const app = await newApp();
    const result = await dokku(`apps:destroy ${app}`);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(" !     WARNING: Potentially Destructive Action\n");
    expect(result.stderr).toContain(`To proceed, type "${app}"`);
    expect((await dokku(`apps:exists ${app}`)).code).toBe(0);
  });

  it("apps:destroy proceeds with the global --force, the per-command --force, or the typed name", async () => {
    const [a, b, c] = await Promise.all([newApp(), newApp(), newApp()]);
    const [global, local, typed] = await Promise.all([
      dokku(`--force apps:destroy ${a}`),
      dokku(`apps:destroy ${b} --force`),
      dokku(`apps:destroy ${c}`, { stdin: `${c}\n` }),
    ]);
    expect(global.code).toBe(0);
    expect(global.stdout).toContain(`-----> Destroying ${a} (including all add-ons)\n`);
    expect(local.code).toBe(0);
    expect(typed.code).toBe(0);
    const apps = await json<string[]>("apps:list --format json");
    expect(apps).not.toContain(a);
    expect(apps).not.toContain(b);
    expect(apps).not.toContain(c);
  });

  it("postgres:destroy needs force (2nd argument or global) and refuses a linked service", async () => {
    const [app, linked, loose] = await Promise.all([
      newApp(),
      newService("postgres"),
      newService("postgres"),
    ]);
    await ok(`--quiet postgres:link ${linked} ${app} --no-restart`);
    const [refused, unforced] = await Promise.all([
      dokku(`postgres:destroy ${linked} force`),
      dokku(`postgres:destroy ${loose}`),
    ]);
    expect(refused).toMatchObject({ code: 1 });
    expect(refused.stderr).toContain(" !     Cannot delete linked service\n");
    expect(unforced.code).toBe(1);
    expect((await dokku(`postgres:exists ${loose}`)).code).toBe(0);
    const destroyed = await ok(`postgres:destroy ${loose} force`);
    expect(destroyed.stdout).toContain(`=====> Postgres container deleted: ${loose}\n`);
    expect((await dokku(`postgres:exists ${loose}`)).code).toBe(1);
  });

  it("network:destroy and storage:destroy prompt without force", async () => {
    const network = track("network", uniqueName("net"));
    const entry = track("storage", uniqueName("vol"));
    await Promise.all([ok(`network:create ${network}`), ok(`storage:create ${entry}`)]);
    const [net, storage] = await Promise.all([
      dokku(`network:destroy ${network}`),
      dokku(`storage:destroy ${entry}`),
    ]);
    expect(net.code).toBe(1);
    expect(storage.code).toBe(1);
    await Promise.all([ok(`--force network:destroy ${network}`), ok(`storage:destroy ${entry} --force`)]);
    const [netGone, storageGone] = await Promise.all([
      dokku(`network:exists ${network}`),
      dokku(`storage:info ${entry}`),
    ]);
    expect(netGone.code).toBe(1);
    expect(storageGone).toMatchObject({
      code: 1,
      stderr: ` !     storage entry "${entry}" does not exist\n`,
    });
  });

  it("apps:destroy unlinks services but keeps their data", async () => {
    const [app, service] = await Promise.all([newApp(), newService("redis")]);
    await ok(`--quiet redis:link ${service} ${app} --no-restart`);
    expect((await ok(`redis:info ${service} --links`)).stdout).toBe(`${app} \n`);
    await ok(`--force apps:destroy ${app}`);
    const [links, exists] = await Promise.all([
      ok(`redis:info ${service} --links`),
      dokku(`redis:exists ${service}`),
    ]);
    expect(links.stdout).toBe("-\n");
    expect(exists.code).toBe(0);
  });
});

describe.concurrent("fact 8: idempotent by design", () => {
  it("domains:add skips known domains; domains:set replaces the whole list", async () => {
    const app = await newApp();
    const domain = `${app}.example.com`;
    await ok(`domains:add ${app} ${domain}`);
    const again = await ok(`domains:add ${app} ${domain}`);
    expect(again.stdout).toContain(`-----> Skipping: ${domain} already added to ${app}\n`);
    await ok(`domains:set ${app} a.${domain} b.${domain}`);
    expect((await ok(`domains:report ${app} --domains-app-vhosts`)).stdout).toBe(`a.${domain} b.${domain}\n`);
  });

  it("ps:scale with an unchanged value is a no-op; resource:limit overwrites and 'clear' deletes a key", async () => {
    const app = await newApp();
    await ok(`ps:scale ${app} web=2 worker=1`);
    await ok(`ps:scale ${app} web=2`);
    expect(await json(`ps:scale ${app} --format json`)).toEqual([
      { process_type: "web", quantity: 2 },
      { process_type: "worker", quantity: 1 },
    ]);
    await ok(`resource:limit --memory 256 --cpu 1 ${app}`);
    await ok(`resource:limit --memory 512 ${app}`);
    await ok(`resource:limit --cpu clear ${app}`);
    expect(await json(`resource:report ${app} --format json`)).toEqual({
      "_default_.limit.memory": "512",
      "resource-_default_.limit.memory": "512",
    });
  });

  it("storage:create, storage:ensure-directory and named storage:mount can be repeated", async () => {
    const app = await newApp();
    const entry = track("storage", uniqueName("vol"));
    await ok(`storage:create ${entry}`);
    const again = await ok(`storage:create ${entry}`);
    expect(again.stdout).toContain(`-----> Storage entry ${entry} already exists, leaving in place\n`);
    await ok(`storage:mount ${app} ${entry} --container-dir /data`);
    const remount = await ok(`storage:mount ${app} ${entry} --container-dir /data`);
    expect(remount.stdout).toBe(`-----> Storage entry ${entry} mount at /data on ${app} updated\n`);
    const directory = uniqueName("dir");
    const [first, second] = [
      await ok(`storage:ensure-directory ${directory}`),
      await ok(`storage:ensure-directory ${directory}`),
    ];
    expect(second.stdout).toBe(first.stdout);
    expect(second.stderr).toContain("Deprecated: please use 'storage:create'");
    await ok(`storage:unmount ${app} ${entry} --container-dir /data`);
  });

  it("storage:create makes the entry's host directory, where a shell user keeps real files; --destroy-host-dir removes it", async () => {
    const entry = track("storage", uniqueName("files"));
    await ok(`storage:create ${entry}`);
    const info = await json<{ host_path: string }>(`storage:info ${entry} --format json`);
    const file = `${info.host_path}/hello.txt`;
    expect((await shell(`cat > ${file}`, "kept\n")).code).toBe(0);
    await ok(`storage:create ${entry}`);
    expect((await shell(`cat ${file}`)).stdout).toBe("kept\n");
    await ok(`--force storage:destroy ${entry} --destroy-host-dir`);
    expect((await shell(`test -e ${info.host_path}`)).code).toBe(1);
  });

  it("postgres:backup-schedule overwrites; backup-unschedule can run twice", async () => {
    const service = await newService("postgres");
    await ok(`postgres:backup-schedule ${service} '0 3 * * *' first-bucket`);
    await ok(`postgres:backup-schedule ${service} '0 4 * * *' second-bucket`);
    const cat = await ok(`postgres:backup-schedule-cat ${service}`);
    expect(cat.stdout).toMatch(
      new RegExp(`^0 4 \\* \\* \\* dokku \\S+ postgres:backup ${service} second-bucket *\\n$`),
    );
    await ok(`postgres:backup-unschedule ${service}`);
    await ok(`postgres:backup-unschedule ${service}`);
    const none = await dokku(`postgres:backup-schedule-cat ${service}`);
    expect(none).toMatchObject({ code: 1, stderr: ` !     There is no scheduled backup for ${service}.\n` });
  });

  it("letsencrypt:cron-job --add twice is fine", async () => {
    await ok("letsencrypt:cron-job --add");
    const again = await ok("letsencrypt:cron-job --add");
    expect(again.stdout).toBe("-----> Added cron job to dokku's crontab.\n");
  });

  it.skipIf(!target.isProjectHost)(
    "letsencrypt:enable twice skips the second request while the certificate is valid (needs the double: no real ACME)",
    async () => {
      const app = await newApp();
      await ok(`domains:set ${app} ${app}.example.test`);
      await ok(`letsencrypt:set ${app} email ops@example.test`);
      const first = await ok(`letsencrypt:enable ${app}`);
      expect(first.stdout).toContain(`=====> Enabling letsencrypt for ${app}\n`);
      const second = await ok(`letsencrypt:enable ${app}`);
      expect(second.stdout).toContain(
        `-----> Certificate is still valid for ${app}, skipping certificate request\n`,
      );
      const [active, ssl] = await Promise.all([
        ok(`letsencrypt:active ${app}`),
        ok(`certs:report ${app} --ssl-enabled`),
      ]);
      expect(active.stdout).toBe("true\n");
      expect(ssl.stdout).toBe("true\n");
    },
  );
});

describe.concurrent("fact 9: traps that are not idempotent", () => {
  it("docker-options:add appends duplicates", async () => {
    const app = await newApp();
    await ok(`docker-options:add ${app} deploy '--ulimit nofile=12'`);
    await ok(`docker-options:add ${app} deploy '--ulimit nofile=12'`);
    const report = await json<Record<string, unknown>>(`docker-options:report ${app} --format json`);
    expect(report["deploy-list"]).toEqual(["--ulimit nofile=12", "--ulimit nofile=12"]);
    await ok(`docker-options:remove ${app} deploy '--ulimit nofile=12'`);
    expect(
      (await json<Record<string, unknown>>(`docker-options:report ${app} --format json`))["deploy-list"],
    ).toEqual([]);
  });

  it("a legacy storage:mount twice fails; unmounting a missing mount fails", async () => {
    const app = await newApp();
    const hostPath = `/var/lib/dokku/data/storage/${app}`;
    await ok(`storage:mount ${app} ${hostPath}:/app/data`);
    const [twice, missing] = await Promise.all([
      dokku(`storage:mount ${app} ${hostPath}:/app/data`),
      dokku(`storage:unmount ${app} ${hostPath}:/elsewhere`),
    ]);
    expect(twice).toMatchObject({ code: 1, stderr: " !     Mount path already exists.\n" });
    expect(missing).toMatchObject({ code: 1, stderr: " !     Mount path does not exist.\n" });
    expect((await ok(`--quiet storage:list ${app}`)).stdout).toBe(`${hostPath}:/app/data\n`);
    const rows = await json<Array<{ host_path: string; container_path: string }>>(
      `storage:list ${app} --format json`,
    );
    expect(rows).toMatchObject([{ host_path: hostPath, container_path: "/app/data" }]);
  });

  it("postgres:backup-auth twice fails until backup-deauth", async () => {
    const service = await newService("postgres");
    await ok(
      `postgres:backup-auth ${service} AKIAEXAMPLE secretvalue us-east-1 s3v4 https://minio.example.test`,
    );
    const twice = await dokku(`postgres:backup-auth ${service} AKIAEXAMPLE secretvalue`);
    expect(twice.code).toBe(1);
    await ok(`postgres:backup-deauth ${service}`);
    await ok(`postgres:backup-deauth ${service}`);
    await ok(`postgres:backup-auth ${service} AKIAEXAMPLE secretvalue`);
  });

  it("certs:remove without a certificate fails", async () => {
    const app = await newApp();
    const result = await dokku(`certs:remove ${app}`);
    expect(result).toMatchObject({ code: 1, stderr: " !     An app-specific SSL endpoint is not defined\n" });
  });

  it("git:from-image with the image already deployed fails with 'No changes detected'", async () => {
    const app = await newApp();
    await ok(`git:from-image ${app} nginx:alpine`);
    const report = await json<Record<string, string>>(`apps:report ${app} --format json`);
    expect(report).toMatchObject({
      "deploy-source": "docker-image",
      "deploy-source-metadata": "nginx:alpine",
    });
    const again = await dokku(`git:from-image ${app} nginx:alpine`);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(" !     No changes detected, skipping git commit\n");
  });

  it("git:from-image needs an existing app (no auto-create)", async () => {
    const app = uniqueName("missing");
    const result = await dokku(`git:from-image ${app} nginx:alpine`);
    expect(result).toMatchObject({ code: 20, stderr: ` !     App ${app} does not exist\n` });
  });
});
