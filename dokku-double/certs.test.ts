/**
 * `certs:add` with a tar on stdin (the only way over `ssh dokku@host`), part of
 * checklist facts 8 and 9: adding overwrites, removing twice fails.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { dokku, json, newApp, ok } from "./testSupport.ts";

const workDir = mkdtempSync(join(tmpdir(), "dokku-double-certs-test-"));
afterAll(() => rmSync(workDir, { recursive: true, force: true }));

/** A self-signed certificate and key, packed the way clients send them: `tar c server.crt server.key`. */
function certificateTar(
  name: string,
  commonName: string,
  altNames: readonly string[],
  extra: Record<string, string> = {},
): Buffer {
  const dir = join(workDir, name);
  execFileSync("mkdir", ["-p", dir]);
  execFileSync(
    "openssl",
    [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-subj",
      `/O=Double Test/CN=${commonName}`,
      "-days",
      "30",
      "-addext",
      `subjectAltName=${altNames.map((alt) => `DNS:${alt}`).join(",")}`,
      "-keyout",
      join(dir, "server.key"),
      "-out",
      join(dir, "server.crt"),
    ],
    { stdio: "ignore" },
  );
  for (const [file, content] of Object.entries(extra)) writeFileSync(join(dir, file), content);
  return execFileSync("tar", ["-c", "-C", dir, "server.crt", "server.key", ...Object.keys(extra)]);
}

describe("certs:add from a tar on stdin", { concurrent: true }, () => {
  it("installs the pair: ssl enabled, hostnames and issuer from the certificate", async () => {
    const app = await newApp("tls");
    await ok(`certs:add ${app}`, {
      stdin: certificateTar(app, `${app}.example.test`, [`${app}.example.test`, `www.${app}.example.test`]),
    });
    const report = await json<Record<string, string>>(`certs:report ${app} --format json`);
    expect(report).toMatchObject({
      enabled: "true",
      hostnames: `${app}.example.test www.${app}.example.test`,
      verified: "self signed",
      subject: `O=Double Test; CN=${app}.example.test`,
      issuer: `O = Double Test, CN = ${app}.example.test`,
    });
    expect(report["expires-at"]).toMatch(/^[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \d{4} GMT$/);
  });

  it("adding again overwrites; removing twice fails the second time", async () => {
    const app = await newApp("tls");
    await ok(`certs:add ${app}`, {
      stdin: certificateTar(`${app}-1`, "first.example.test", ["first.example.test"]),
    });
    await ok(`certs:add ${app}`, {
      stdin: certificateTar(`${app}-2`, "second.example.test", ["second.example.test"]),
    });
    expect((await ok(`certs:report ${app} --ssl-hostnames`)).stdout).toBe("second.example.test\n");
    const removed = await ok(`certs:remove ${app}`);
    expect(removed.stdout).toBe(`-----> Removing SSL endpoint from ${app}\n`);
    expect((await ok(`certs:report ${app} --ssl-enabled`)).stdout).toBe("false\n");
    expect((await dokku(`certs:remove ${app}`)).code).toBe(1);
  });

  it("adds https:443 next to an explicit http:80 mapping", async () => {
    const app = await newApp("tls");
    await ok(`ports:set ${app} http:80:5000`);
    await ok(`certs:add ${app}`, {
      stdin: certificateTar(app, `${app}.example.test`, [`${app}.example.test`]),
    });
    expect((await ok(`ports:report ${app} --ports-map`)).stdout).toBe("http:80:5000 https:443:5000\n");
  });

  it("refuses a tar without exactly one .crt and one .key", async () => {
    const app = await newApp("tls");
    const twoCrts = certificateTar(`${app}-x`, "x.example.test", ["x.example.test"], {
      "extra.crt": "not a cert\n",
    });
    const result = await dokku(`certs:add ${app}`, { stdin: twoCrts });
    expect(result).toMatchObject({
      code: 1,
      stderr: " !     Tar archive contains more than one .crt file\n",
    });
    const empty = await dokku(`certs:add ${app}`, { stdin: "" });
    expect(empty.code).not.toBe(0);
    expect((await ok(`certs:report ${app} --ssl-enabled`)).stdout).toBe("false\n");
  });
});
