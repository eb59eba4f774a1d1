/**
 * The certs plugin: bash `certs:add` (a tar on stdin holding exactly one `*.crt`
 * and one `*.key`; server-side file paths are never readable in the double),
 * `certs:remove`, `certs:show`, and the Go `certs:report` (report type `ssl`),
 * whose certificate fields come from parsing the stored PEM like openssl does.
 */
import { spawnSync } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import type { PluginModule } from "./commands.ts";
import type { Ctx } from "./context.ts";
import { buildProxyConfig } from "./deploy.ts";
import { exitWith, fail } from "./errors.ts";
import { verifyAppBash } from "./names.ts";
import { DOKKU_ROOT } from "./paths.ts";
import { addHttpsForCertificate } from "./ports.ts";
import { propDelete, propGet } from "./properties.ts";
import { runGoReport } from "./report.ts";
import type { TlsState } from "./state.ts";

/** Regular files below `dir`, skipping hidden path components (upstream: find -not -path with a dot-glob, -type f). */
function listFiles(dir: string): string[] {
  const files: string[] = [];
  const walk = (current: string): void => {
    for (const name of readdirSync(current)) {
      if (name.startsWith(".")) continue;
      const path = join(current, name);
      const stat = statSync(path, { throwIfNoEntry: false });
      if (stat?.isDirectory()) walk(path);
      else if (stat?.isFile()) files.push(path);
    }
  };
  walk(dir);
  return files;
}

/** Extracts the tar from stdin with the system tar (its errors are what clients see) and picks the pair. */
function readTarPair(ctx: Ctx): { crt: string; key: string } {
  const archive = ctx.stdin.readAll();
  const workDir = mkdtempSync(join(tmpdir(), "dokku-double-certs-"));
  try {
    const result = spawnSync("tar", ["-x", "-C", workDir, "-f", "-", "--no-same-owner"], { input: archive });
    if (result.status !== 0) {
      ctx.out.write("stderr", result.stderr.toString("utf8"));
      exitWith(result.status ?? 2);
    }
    const files = listFiles(workDir).map((file) => `./${relative(workDir, file)}`);
    const pick = (suffix: RegExp, label: string): string => {
      const found = files.filter((file) => suffix.test(file));
      if (found.length < 1) fail(`Tar archive is missing .${label} file`);
      if (found.length > 1) fail(`Tar archive contains more than one .${label} file`);
      return readFileSync(join(workDir, found[0] ?? ""), "utf8");
    };
    // grep ".crt$": the dot is a regex wildcard upstream too.
    return { crt: pick(/.crt$/, "crt"), key: pick(/.key$/, "key") };
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
}

/** `fn-certs-set` and its triggers: install, add https port mappings, rebuild nginx. */
export function installTls(ctx: Ctx, appName: string, tls: TlsState): void {
  const app = ctx.state.apps[appName];
  if (!app) return;
  app.tls = tls;
  if (propGet(ctx.state, "proxy", appName, "proxy-port") === "80")
    propDelete(ctx.state, "proxy", appName, "proxy-port");
  if (propGet(ctx.state, "proxy", appName, "proxy-ssl-port") === "443")
    propDelete(ctx.state, "proxy", appName, "proxy-ssl-port");
  addHttpsForCertificate(app);
  buildProxyConfig(ctx, appName);
}

function add(ctx: Ctx, args: string[]): void {
  const [appName = "", crtFile = "", keyFile = ""] = args;
  verifyAppBash(ctx, appName);
  if (crtFile !== "" && keyFile !== "") {
    // File import reads server-side paths; the double has none, so they are never readable.
    fail("CRT file specified not found, please check file paths");
  }
  if (ctx.stdin.isTty()) fail("Tar archive containing server.crt and server.key expected on stdin");
  const { crt, key } = readTarPair(ctx);
  installTls(ctx, appName, { source: "custom", crtPem: crt, keyPem: key });
}

function remove(ctx: Ctx, args: string[]): void {
  const appName = args[0] ?? "";
  const app = verifyAppBash(ctx, appName);
  if (!app.tls) fail("An app-specific SSL endpoint is not defined");
  ctx.out.info1(`Removing SSL endpoint from ${appName}`);
  app.tls = null;
  buildProxyConfig(ctx, appName);
}

function show(ctx: Ctx, args: string[]): void {
  const [appName = "", which = ""] = args;
  const app = verifyAppBash(ctx, appName);
  if (!app.tls) fail("An app-specific SSL endpoint is not defined");
  if (which === "crt") ctx.out.write("stdout", app.tls.crtPem);
  else if (which === "key") ctx.out.write("stdout", app.tls.keyPem);
  else fail("Invalid output type specified, valid types include: crt, key");
}

export interface CertificateFacts {
  subject: string;
  issuer: string;
  startsAt: string;
  expiresAt: string;
  hostnames: string[];
}

/** What openssl would print for a PEM certificate; undefined when it does not parse. */
export function certificateFacts(tls: TlsState): CertificateFacts | undefined {
  if (tls.synthetic) return tls.synthetic;
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(tls.crtPem);
  } catch {
    return undefined;
  }
  const rdns = (name: string): string[] => name.split("\n").filter((line) => line !== "");
  const cn = rdns(cert.subject)
    .find((rdn) => rdn.startsWith("CN="))
    ?.slice(3);
  const sans = (cert.subjectAltName ?? "")
    .split(",")
    .map((entry) => entry.trim())
    .filter((entry) => entry.startsWith("DNS:"))
    .map((entry) => entry.slice(4));
  return {
    subject: rdns(cert.subject).join("; "),
    issuer: rdns(cert.issuer)
      .map((rdn) => rdn.replace("=", " = "))
      .join(", "),
    startsAt: cert.validFrom,
    expiresAt: cert.validTo,
    hostnames: [...new Set([...(cn ? [cn] : []), ...sans])].sort(),
  };
}

function report(ctx: Ctx, args: string[]): void {
  runGoReport(ctx, args, {
    plugin: "certs",
    reportType: "ssl",
    emitLegacy: false,
    uppercase: true,
    collect(c, appName): Record<string, string> {
      const app = c.state.apps[appName];
      if (!app) return {};
      const tls = app.tls;
      const facts = tls ? certificateFacts(tls) : undefined;
      return {
        "--ssl-dir": `${DOKKU_ROOT}/${appName}/tls`,
        "--ssl-enabled": tls ? "true" : "false",
        "--ssl-hostnames": facts?.hostnames.join(" ") ?? "",
        "--ssl-expires-at": facts?.expiresAt ?? "",
        "--ssl-issuer": facts?.issuer ?? "",
        "--ssl-starts-at": facts?.startsAt ?? "",
        "--ssl-subject": facts?.subject ?? "",
        "--ssl-verified": !tls
          ? ""
          : tls.source === "letsencrypt"
            ? "verified by a certificate authority"
            : "self signed",
      };
    },
  });
}

export const plugin: PluginModule = {
  core: true,
  commands: { "certs:add": add, "certs:remove": remove, "certs:show": show, "certs:report": report },
};
