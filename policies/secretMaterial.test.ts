import { describe, expect, it } from "vitest";
import { containsFingerprinted, fingerprintOf, secretMaterialIn } from "./secretMaterial.ts";

const HEX = "0123456789abcdef".repeat(4);

describe("secretMaterialIn", () => {
  it.each([
    ["-----BEGIN RSA PRIVATE KEY-----\nMIIE", ["a PEM private key"]],
    ["key AKIAIOSFODNN7EXAMPLE here", ["an AWS access key id"]],
    [`token ${HEX}`, ["a 64-hex-digit secret"]],
    ["postgres://user:pw@db/app", ["a URL with an embedded password"]],
    ["MINDROOM_API_KEY=abc", ["a literal value for a secret-named variable"]],
  ])("finds %j", (text, found) => {
    expect(secretMaterialIn(text)).toEqual(found);
  });

  it.each([
    `ghcr.io/mindroom-ai/mindroom@sha256:${HEX}`,
    `${HEX}0`, // 65 hex digits: not a derived secret
    "ssh://root@127.0.0.1:2222",
    'dokku postgres:backup-auth pg-acme "$AWS_KEY_ID" "$AWS_SECRET" eu-central-1',
    "-----BEGIN CERTIFICATE-----",
    "0123456789abcdef0123456789abcdef", // a Cloudflare zone id
  ])("finds nothing in %j", (text) => {
    expect(secretMaterialIn(text)).toEqual([]);
  });

  it("lets a field named as a digest hold 64 hex digits, and nothing else", () => {
    expect(secretMaterialIn(HEX, ".configDigest")).toEqual([]);
    expect(secretMaterialIn(`${HEX} AKIAIOSFODNN7EXAMPLE`, ".configDigest")).toEqual([
      "an AWS access key id",
    ]);
  });
});

describe("containsFingerprinted", () => {
  const secret = "s3cret-root-0123456789abcdef-0123456789";
  const fingerprint = fingerprintOf(secret);

  it("finds the secret anywhere in a text, by its fingerprint", () => {
    expect(containsFingerprinted(secret, fingerprint)).toBe(true);
    expect(containsFingerprinted(`ROOT=${secret}\nother`, fingerprint)).toBe(true);
  });

  it("finds nothing else", () => {
    expect(containsFingerprinted(secret.slice(1), fingerprint)).toBe(false);
    expect(containsFingerprinted(`${secret.slice(0, -1)}X`, fingerprint)).toBe(false);
    expect(containsFingerprinted("", fingerprint)).toBe(false);
  });
});
