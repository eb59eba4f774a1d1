import { describe, expect, it } from "vitest";
import { SAMPLE_ZONE, sampleSpec } from "../testing/tenantSamples.ts";
import {
  assertEmptyStack,
  assertRebuildable,
  heldResources,
  StackRebuildRefusedError,
} from "./stackRebuild.ts";

const checkpoint = (types: string[]) => ({
  version: 3,
  deployment: { resources: types.map((type, i) => ({ urn: `urn:pulumi:acme::p::${type}::r${i}`, type })) },
});

describe("stack rebuild decisions", () => {
  it("counts what a checkpoint holds besides the stack and its providers", () => {
    expect(heldResources({ version: 3, deployment: {} })).toEqual([]);
    expect(heldResources(checkpoint(["pulumi:pulumi:Stack", "pulumi:providers:command"]))).toEqual([]);
    expect(
      heldResources(
        checkpoint(["pulumi:pulumi:Stack", "mindroom:tenant:MindRoomTenant", "command:remote:Command"]),
      ),
    ).toEqual([
      "urn:pulumi:acme::p::mindroom:tenant:MindRoomTenant::r1",
      "urn:pulumi:acme::p::command:remote:Command::r2",
    ]);
  });

  it("fills only an empty stack", () => {
    expect(() => assertEmptyStack("acme", checkpoint(["pulumi:pulumi:Stack"]))).not.toThrow();
    expect(() => assertEmptyStack("acme", checkpoint(["command:remote:Command"]))).toThrow(
      /stack of tenant acme still holds 1 resource: a rebuild only fills an empty/,
    );
  });

  it("needs the tenant's config and refuses cloud resources it cannot adopt without their ids", () => {
    expect(() => assertRebuildable("acme", undefined)).toThrow(StackRebuildRefusedError);
    expect(() => assertRebuildable("acme", sampleSpec())).not.toThrow();
    expect(() =>
      assertRebuildable("acme", sampleSpec({ dns: { enabled: true, zoneId: SAMPLE_ZONE, proxied: true } })),
    ).toThrow(/has cloudflare resources, which a rebuild cannot adopt/);
    expect(() =>
      assertRebuildable(
        "acme",
        sampleSpec({ backups: { enabled: true, bucket: "mr-backups", region: "eu-central-1" } }),
      ),
    ).toThrow(/has aws resources/);
  });
});
