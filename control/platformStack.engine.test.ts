/**
 * The platform stack on the real engine, through the operator CLI: the
 * commands docs/production.md shows for it are run as shown (hosts add and
 * cordon of the control host, platform preview, up, outputs), against the Dokku
 * test host as the control host. DNS, bucket and key are off (their
 * providers cannot run here; components/platform/controlPlane.test.ts covers
 * them under mocks). The host is observed only through Dokku's own commands.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fingerprint } from "../automation/hostProbe.ts";
import { runProgramStack } from "../automation/programStacks.ts";
import { loadAutomationSettings } from "../automation/settings.ts";
import { CONTROL_PLANE_NAMES } from "../components/platform/controlPlane.ts";
import { type TestDatabase, testDatabase } from "../testing/database.ts";
import { runDokku } from "../testing/dokkuClient.ts";
import { dokkuTarget } from "../testing/dokkuTarget.ts";
import { hostKeyOf } from "../testing/engineStack.ts";
import { loadPlatformSpec, platformStack } from "./platformStack.ts";

const OPS = resolve(import.meta.dirname, "..", "bin", "mindroom-ops");
/** The guide's section on the platform stack. */
const GUIDE =
  readFileSync(resolve(import.meta.dirname, "..", "docs", "production.md"), "utf8")
    .split("### On Dokku: the platform stack")[1]
    ?.split("\n## ")[0] ?? "";
/** The guide's control host, replaced by the test host's shell login. */
const GUIDE_HOST = "ssh://root@control.mindroom.chat";
const target = dokkuTarget();
const IMAGE = `ghcr.io/mindroom-ai/mindroom-cloud@sha256:${"d".repeat(64)}`;
const WORKER_SECRET = "worker-only-secret-value-7f3a";
const { webhooks: WEBHOOKS_APP, portal: PORTAL_APP } = CONTROL_PLANE_NAMES.apps;

describe("the platform stack on the Dokku test host", { timeout: 900_000 }, () => {
  let db: TestDatabase;
  let dir: string;
  let env: NodeJS.ProcessEnv;
  const dokku = (command: string) => runDokku(target, command);

  const run = (command: string, args: string[] = []) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((done) => {
      execFile(
        command,
        args,
        { cwd: dir, env, timeout: 600_000, maxBuffer: 16 * 1024 * 1024 },
        (error, stdout, stderr) => done({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
      );
    });
  const ops = (args: string[]) => run(OPS, ["platform", ...args]);
  const envFiles = ["--webhooks-env", "webhooks.env", "--portal-env", "portal.env"];

  /** The guide's line that starts with `prefix`, as this test host runs it. */
  const guideLine = (prefix: string) => {
    const line = GUIDE.split("\n").find((l) => l.startsWith(prefix));
    if (!line) throw new Error(`docs/production.md shows no ${prefix} line`);
    return line
      .replaceAll(GUIDE_HOST, target.shellUrl)
      .replace("SHA256:…", fingerprint(hostKeyOf(target)))
      .replace(/^bin\/mindroom-ops/, OPS);
  };
  const asShown = (prefix: string) => run("bash", ["-c", guideLine(prefix)]);

  beforeAll(async () => {
    db = await testDatabase();
    dir = mkdtempSync(join(tmpdir(), "platform-stack-"));
    const { CLOUDFLARE_ZONE_ID, MINDROOM_BACKUP_BUCKET, MINDROOM_ENV_FILE, ...inherited } = process.env;
    env = {
      ...inherited,
      // An empty .env: nothing from the machine's own.
      MINDROOM_ENV_FILE: join(dir, "empty.env"),
      DATABASE_URL: db.url,
      DOKKU_SSH_KEY: target.keyPath,
      DOKKU_HOSTS: target.shellUrl,
      MINDROOM_DATA_DIR: join(dir, "data"),
      MINDROOM_CONTROL_HOST: target.shellUrl,
      MINDROOM_CONTROL_IMAGE: IMAGE,
      PORTAL_PUBLIC_URL: "https://app.control.example.com",
      MINDROOM_WEBHOOKS_PUBLIC_URL: "https://hooks.control.example.com",
      MINDROOM_TLS_EMAIL: "ops@control.example.com",
      MINDROOM_OPERATOR: "ops@example.com",
    };
    writeFileSync(join(dir, "empty.env"), "");
    writeFileSync(
      join(dir, "webhooks.env"),
      `DATABASE_URL=postgres://worker@db/mindroom\nMINDROOM_ROOT_SECRET=${WORKER_SECRET}\n`,
    );
    writeFileSync(
      join(dir, "portal.env"),
      "DATABASE_URL=postgres://portal@db/mindroom\nPORTAL_COOKIE_SECURE=on\n",
    );
  });

  afterAll(async () => {
    if (env) {
      // Destroy (apps, network) and remove the stack, then the storage the apps retained.
      const settings = loadAutomationSettings(env);
      const spec = await loadPlatformSpec(db.pool, settings, env).catch(() => undefined);
      if (spec) {
        const stack = platformStack(spec, readFileSync(target.keyPath, "utf8"), { webhooks: {}, portal: {} });
        await runProgramStack(settings, stack, "destroy");
      }
      await dokku(`storage:destroy ${CONTROL_PLANE_NAMES.webhooksStorage} --force`).catch(() => undefined);
    }
    await db?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("adds and cordons the control host as shown", async () => {
    const added = await asShown("bin/mindroom-ops hosts add");
    expect(added.code, added.stderr).toBe(0);
    const cordoned = await asShown("bin/mindroom-ops hosts cordon");
    expect(cordoned.code, cordoned.stderr).toBe(0);
    const list = await run(OPS, ["hosts", "list", "--json"]);
    expect(JSON.parse(list.stdout)).toEqual([
      expect.objectContaining({ url: target.shellUrl, schedule: "cordoned", schedulable: false }),
    ]);
  });

  it("refuses a portal environment holding infrastructure credentials, naming them", async () => {
    writeFileSync(
      join(dir, "leaky-portal.env"),
      `DATABASE_URL=postgres://portal@db/mindroom\nMINDROOM_ROOT_SECRET=${WORKER_SECRET}\nDOKKU_SSH_KEY=/keys/id\n`,
    );
    const refused = await ops([
      "preview",
      "--webhooks-env",
      "webhooks.env",
      "--portal-env",
      "leaky-portal.env",
    ]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain("leaky-portal.env holds MINDROOM_ROOT_SECRET, DOKKU_SSH_KEY");
    expect(refused.stderr).not.toContain(WORKER_SECRET);
  });

  it("previews as shown: both apps, their TLS and network, and nothing changes on the host", async () => {
    const shown = await asShown("bin/mindroom-ops platform preview");
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).not.toContain(WORKER_SECRET);
    const preview = await ops(["preview", ...envFiles, "--json"]);
    expect(preview.code, preview.stderr).toBe(0);
    const result = JSON.parse(preview.stdout) as {
      status: string;
      steps: { resource: string; op: string }[];
      policyViolations: { level: string }[];
    };
    expect(result.status).toBe("succeeded");
    // Through the policy pack, which passes on it.
    expect(result.policyViolations.filter((v) => v.level === "mandatory")).toEqual([]);
    const created = result.steps.filter((s) => s.op === "create").map((s) => s.resource);
    expect(created).toEqual(
      expect.arrayContaining([
        "platform-network-network",
        "platform-webhooks-app",
        "platform-webhooks-deploy",
        "platform-webhooks-tls-letsencrypt",
        "platform-portal-app",
        "platform-portal-deploy",
        "platform-portal-tls-letsencrypt",
      ]),
    );
    for (const app of [WEBHOOKS_APP, PORTAL_APP])
      expect((await dokku(`apps:exists ${app}`)).code, app).not.toBe(0);
  });

  it("brings it up as shown: both parts on the control host with their domains, TLS and configuration", async () => {
    const up = await asShown("bin/mindroom-ops platform up");
    expect(up.code, up.stderr).toBe(0);
    expect(up.stdout).not.toContain(WORKER_SECRET);
    for (const [app, domain, part] of [
      [WEBHOOKS_APP, "hooks.control.example.com", "webhooks"],
      [PORTAL_APP, "app.control.example.com", "portal"],
    ] as const) {
      expect((await dokku(`apps:exists ${app}`)).code, app).toBe(0);
      expect((await dokku(`--quiet domains:report ${app} --domains-app-vhosts`)).stdout.trim()).toBe(domain);
      expect((await dokku(`--quiet apps:report ${app} --app-deploy-source-metadata`)).stdout.trim()).toBe(
        IMAGE,
      );
      expect((await dokku(`letsencrypt:active ${app}`)).code, `${app} TLS`).toBe(0);
      expect((await dokku(`--quiet network:report ${app} --network-initial-network`)).stdout.trim()).toBe(
        CONTROL_PLANE_NAMES.network,
      );
      const config = JSON.parse((await dokku(`config:export --format json ${app}`)).stdout);
      expect(config).toMatchObject({ MINDROOM_SERVE_ONLY: part, PORT: "5000", MINDROOM_ENVIRONMENT: "test" });
    }
    const portal = JSON.parse((await dokku(`config:export --format json ${PORTAL_APP}`)).stdout);
    expect(portal).not.toHaveProperty("MINDROOM_ROOT_SECRET");
    expect(portal).toMatchObject({ PORTAL_COOKIE_SECURE: "on" });
    const webhooks = JSON.parse((await dokku(`config:export --format json ${WEBHOOKS_APP}`)).stdout);
    expect(webhooks).toMatchObject({ MINDROOM_ROOT_SECRET: WORKER_SECRET });

    const outputs = await asShown("bin/mindroom-ops platform outputs");
    expect(outputs.code, outputs.stderr).toBe(0);
    expect(JSON.parse(outputs.stdout)).toMatchObject({
      apps: { webhooks: WEBHOOKS_APP, portal: PORTAL_APP },
      urls: {
        portal: "https://app.control.example.com",
        stripeWebhook: "https://hooks.control.example.com/stripe/webhook",
      },
      image: IMAGE,
      backupBucket: null,
    });
  });

  it("a second up changes nothing", async () => {
    const again = await ops(["up", ...envFiles, "--json"]);
    expect(again.code, again.stderr).toBe(0);
    const result = JSON.parse(again.stdout) as { changes: Record<string, number> };
    expect(Object.keys(result.changes).filter((op) => op !== "same")).toEqual([]);
  });
});
