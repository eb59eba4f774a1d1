/**
 * `./platform start`: the platform on embedded defaults, for one machine. Today
 * that is the local Dokku host (a real sshd in front of the Dokku CLI double,
 * kept in the data folder so its keys, port and state survive restarts) and the
 * automation layer's defaults (file backend and passphrase in the data folder),
 * ready for `bin/mindroom-ops`. The webhook service, reconcile worker and portal
 * join here as they land.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { LOCAL_HOST_POINTER, loadAutomationSettings } from "./automation/settings.ts";
import { exampleTenant } from "./components/exampleTenant.ts";
import { startDokkuHost } from "./dokku-double/host.ts";

const HELP = `Usage: ./platform start [--help]

Starts MindRoom Cloud on embedded defaults (data in MINDROOM_DATA_DIR, default ./.data)
and runs until interrupted (Ctrl-C).`;

/**
 * Where the local host lives: in the data folder, unless that sits below a
 * group/world-writable directory (a checkout in /tmp), where sshd's StrictModes
 * would refuse its keys; then in a root-owned folder named after the data folder.
 */
function localHostDir(dataDir: string): string {
  const inData = join(dataDir, "dokku-host");
  for (let dir = dataDir; dir !== dirname(dir); dir = dirname(dir)) {
    if (!existsSync(dir)) continue;
    const st = statSync(dir);
    if (st.uid !== 0 || (st.mode & 0o022) !== 0) {
      return join(
        "/var/lib/mindroom-cloud",
        createHash("sha256").update(dataDir).digest("hex").slice(0, 12),
        "dokku-host",
      );
    }
  }
  return inData;
}

async function start(): Promise<void> {
  const settings = loadAutomationSettings();
  const hostDir = localHostDir(settings.dataDir);
  mkdirSync(hostDir, { recursive: true, mode: 0o755 });
  writeFileSync(join(settings.dataDir, LOCAL_HOST_POINTER), `${hostDir}\n`);
  // Keep the port: tenant stacks record the host's address.
  const portFile = join(hostDir, "port");
  const port = existsSync(portFile) ? Number(readFileSync(portFile, "utf8")) : undefined;
  const host = await startDokkuHost({ dir: hostDir, ...(port ? { port } : {}) });
  writeFileSync(portFile, String(host.port));

  const example = join(settings.dataDir, "examples", "tenant.json");
  mkdirSync(join(settings.dataDir, "examples"), { recursive: true });
  writeFileSync(
    example,
    `${JSON.stringify(exampleTenant({ host: { url: host.shellUrl, hostKey: host.hostPublicKey, address: host.host } }), null, 2)}\n`,
  );

  process.stdout.write(`MindRoom Cloud is running on embedded defaults (data in ${settings.dataDir}).

  Dokku host      ${host.url} (shell: ${host.shellUrl})
  SSH key         ${host.keyPath}
  Pulumi state    ${settings.backendUrl}

Try it:
  DOKKU_SSH_KEY=${host.keyPath} bin/mindroom-ops apply ${example}
  bin/mindroom-ops list

Not started yet (their issues are open): the Stripe webhook service and reconcile
worker, the embedded Postgres, the customer portal.
Ctrl-C stops the platform; its data stays in ${settings.dataDir}.
`);

  await new Promise<void>((resolve) => {
    for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => resolve());
  });
  process.stdout.write("stopping…\n");
  await host.stop();
}

const [command = "start", ...rest] = process.argv.slice(2);
if (command === "--help" || rest.includes("--help")) {
  process.stdout.write(`${HELP}\n`);
} else if (command === "start") {
  start().catch((error: Error) => {
    process.stderr.write(`platform: ${error.message}\n`);
    process.exit(1);
  });
} else {
  process.stderr.write(`${HELP}\n`);
  process.exit(2);
}
