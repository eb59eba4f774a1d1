import { describe, expect, it } from "vitest";
import { configDigest } from "../components/dokku/configDigest.ts";
import { driftProbes, findings, type RecordedResource, repairTokens } from "./driftProbes.ts";

const urn = (type: string, name: string) => `urn:pulumi:t::mindroom-tenant::${type}::${name}`;
const config = { A: "1", B: "secret-value" };
const app: RecordedResource = {
  urn: urn("mindroom:index:MindRoomTenant$mindroom:dokku:App", "tenant-runtime"),
  type: "mindroom:dokku:App",
  inputs: {
    app: "mr-acme",
    network: "net-acme",
    web: { port: 8765, domains: ["acme.x.test", "acme.api.x.test"], readinessPath: "/api/ready" },
    storage: [{ entry: "data-mr-acme", containerDir: "/d" }],
    foreignMounts: [],
    resources: { memoryMb: 512, cpus: 0.5, reserveMemoryMb: 256 },
    image: "img@sha256:1",
    scale: 1,
    services: [{ kind: "postgres", service: "pg-acme" }],
    configKeys: ["A", "B"],
    configDigest: configDigest(config),
  },
};
const resources: RecordedResource[] = [
  {
    urn: urn("mindroom:dokku:Network", "tenant-network"),
    type: "mindroom:dokku:Network",
    inputs: { network: "net-acme" },
  },
  {
    urn: urn("mindroom:dokku:Service", "tenant-postgres"),
    type: "mindroom:dokku:Service",
    inputs: { kind: "postgres", service: "pg-acme" },
  },
  app,
  {
    urn: urn("mindroom:dokku:Tls", "tenant-runtime-tls"),
    type: "mindroom:dokku:Tls",
    inputs: { app: "mr-acme", mode: "letsencrypt" },
  },
  { urn: urn("command:remote:Command", "tenant-runtime-app"), type: "command:remote:Command", inputs: {} },
];

/** What a host in exactly the recorded state answers to each probe. */
function healthy(command: string): { code: number; stdout: string } {
  const answers: [RegExp, string][] = [
    [/^network:report/, "net-acme"],
    [/^storage:list/, JSON.stringify([{ entry_name: "data-mr-acme", container_path: "/d" }])],
    [
      /^resource:report/,
      JSON.stringify({
        "_default_.limit.memory": "512",
        "_default_.limit.cpu": "0.5",
        "_default_.reserve.memory": "256",
      }),
    ],
    [/^config:export/, JSON.stringify({ ...config, GIT_REV: "abc", DATABASE_URL: "postgres://x" })],
    [/^apps:report/, "img@sha256:1"],
    [/^ps:scale/, JSON.stringify([{ process_type: "web", quantity: 1 }])],
    [/^domains:report/, "acme.x.test acme.api.x.test"],
    [/^letsencrypt:active/, "true"],
  ];
  return { code: 0, stdout: answers.find(([re]) => re.test(command))?.[1] ?? "" };
}

describe("driftProbes", () => {
  const probes = driftProbes(resources);

  it("checks every component kind with read-only commands, ignoring plain commands", () => {
    expect(probes.map((p) => p.command)).toEqual([
      "network:exists net-acme",
      "postgres:exists pg-acme",
      "apps:exists mr-acme",
      "network:report mr-acme --network-initial-network",
      "storage:list mr-acme --format json",
      "resource:report mr-acme --format json",
      "config:export --format json mr-acme",
      "apps:report mr-acme --app-deploy-source-metadata",
      "ps:scale mr-acme --format json",
      "postgres:linked pg-acme mr-acme",
      "domains:report mr-acme --domains-app-vhosts",
      "storage:info data-mr-acme --format json",
      "letsencrypt:active mr-acme",
    ]);
  });

  it("finds nothing on a host in the recorded state (keys Dokku adds itself are ignored)", () => {
    expect(
      findings(
        probes,
        probes.map((p) => healthy(p.command)),
      ),
    ).toEqual([]);
  });

  it.each([
    [
      "resource:report",
      JSON.stringify({
        "_default_.limit.memory": "99",
        "_default_.limit.cpu": "0.5",
        "_default_.reserve.memory": "256",
      }),
      "tenant-runtime: limits",
      ["tenant-runtime-limits"],
    ],
    [
      "config:export",
      JSON.stringify({ A: "1", B: "changed" }),
      "tenant-runtime: config",
      ["tenant-runtime-config"],
    ],
    ["config:export", JSON.stringify({ A: "1" }), "tenant-runtime: config", ["tenant-runtime-config"]],
    ["apps:report", "other@sha256:2", "tenant-runtime: image", ["tenant-runtime-deploy"]],
    [
      "ps:scale",
      JSON.stringify([{ process_type: "web", quantity: 0 }]),
      "tenant-runtime: scale",
      ["tenant-runtime-scale"],
    ],
    ["domains:report", "evil.example.com", "tenant-runtime: domains", ["tenant-runtime-settings"]],
    ["network:report", "bridge", "tenant-runtime: network", ["tenant-runtime-settings"]],
    ["letsencrypt:active", "false", "tenant-runtime-tls: letsencrypt", ["tenant-runtime-tls-letsencrypt"]],
  ])("after %s answers %s, reports %s and names the commands to re-run", (command, answer, id, repair) => {
    const results = probes.map((p) =>
      p.command.startsWith(command) ? { code: 0, stdout: answer } : healthy(p.command),
    );
    expect(findings(probes, results).map((f) => [f.id, f.repair])).toEqual([[id, repair]]);
  });

  it("treats a missing app, service or network as drift that re-runs everything behind it", () => {
    const results = probes.map((p) =>
      /^(apps|network|postgres):exists/.test(p.command) ? { code: 20, stdout: "" } : healthy(p.command),
    );
    const found = findings(probes, results);
    expect(found.map((f) => f.id)).toEqual([
      "tenant-network: network",
      "tenant-postgres: service",
      "tenant-runtime: app",
    ]);
    expect(found[2]?.repair).toEqual(
      expect.arrayContaining([
        "tenant-runtime-app",
        "tenant-runtime-settings",
        "tenant-runtime-config",
        "tenant-runtime-deploy",
        "tenant-runtime-link-postgres",
      ]),
    );
  });

  it("never puts config values into a finding", () => {
    const results = probes.map((p) =>
      p.command.startsWith("config:export")
        ? { code: 0, stdout: JSON.stringify({ A: "1", B: "leak-me" }) }
        : healthy(p.command),
    );
    expect(JSON.stringify(findings(probes, results))).not.toMatch(/leak-me|secret-value/);
  });
});

describe("repairTokens", () => {
  it("adds the token for every named command and keeps earlier tokens", () => {
    const found = [{ id: "x", expected: "", observed: "", repair: ["a", "b"] }];
    expect(repairTokens({ c: "old", a: "older" }, found, "t2")).toEqual({ c: "old", a: "t2", b: "t2" });
    expect(repairTokens({ c: "old" }, [], "t3")).toEqual({ c: "old" });
  });
});
