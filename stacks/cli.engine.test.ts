/**
 * The tenant program runs unchanged from the pulumi CLI through Pulumi.yaml, the
 * way an operator previews a tenant in a checkout.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type PulumiCli, pulumiCli } from "../testing/pulumiCli.ts";
import { SAMPLE_ROOT_SECRET, sampleSpecInput } from "../testing/tenantSamples.ts";

let cli: PulumiCli;
beforeAll(async () => {
  cli = await pulumiCli(`cli-${process.pid}`);
});
afterAll(() => cli?.dispose());

describe("pulumi preview -s <tenant> in a checkout", () => {
  it("runs the tenant program through Pulumi.yaml and shows the tenant's resources", async () => {
    await cli.configureTenant(sampleSpecInput({ tier: "professional" }));
    const { stdout } = await cli.pulumi("preview", "-s", cli.stack, "--json");
    const preview = JSON.parse(stdout) as { changeSummary: Record<string, number>; steps: { urn: string }[] };
    // The stack, the tenant and its network, two apps with their storage, settings, limits, deploy,
    // scale and TLS, the runtime's config and its MindRoom config template file, the homeserver's config.
    expect(preview.changeSummary.create).toBe(25);
    const types = new Set(preview.steps.map((s) => s.urn.split("::")[2]?.split("$").pop()));
    expect([...types].sort()).toEqual(
      [
        "command:remote:Command",
        "mindroom:dokku:App",
        "mindroom:dokku:Network",
        "mindroom:dokku:Tls",
        "mindroom:index:MindRoomTenant",
        "pulumi:pulumi:Stack",
      ].sort(),
    );
    expect(stdout).not.toContain(SAMPLE_ROOT_SECRET);
  });

  it("refuses an invalid tenant spec with every problem listed", async () => {
    await cli.configureTenant(sampleSpecInput({ slug: "Bad Slug", tier: "gold" as never }));
    const failure = await cli.pulumi("preview", "-s", cli.stack).then(
      () => undefined,
      (error: { stdout: string }) => error.stdout,
    );
    expect(failure).toMatch(/invalid tenant spec/);
    expect(failure).toMatch(/slug: invalid slug "Bad Slug"/);
    expect(failure).toMatch(/tier:/);
  });
});
