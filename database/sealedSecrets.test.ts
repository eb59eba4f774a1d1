import { describe, expect, it } from "vitest";
import { providerKeySealingSeed } from "../components/tenantSecrets.ts";
import { SAMPLE_ROOT_SECRET } from "../testing/tenantSamples.ts";
import { keyId, open, SealedSecretError, seal, sealingKeyPair } from "./sealedSecrets.ts";

const pair = sealingKeyPair(providerKeySealingSeed(SAMPLE_ROOT_SECRET));
const other = sealingKeyPair(providerKeySealingSeed(`${SAMPLE_ROOT_SECRET}-other`));
const KEY = "sk-proj-abcdefghijklmnopqrstuvwxyz0123456789";

describe("sealed secrets", () => {
  it("open with the worker's key pair, from its public key alone", () => {
    expect(pair.publicKey).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(sealingKeyPair(providerKeySealingSeed(SAMPLE_ROOT_SECRET)).publicKey).toBe(pair.publicKey);
    const sealed = seal(pair.publicKey, KEY);
    expect(sealed).not.toContain(KEY);
    expect(sealed.split(".")[1]).toBe(keyId(pair.publicKey));
    expect(open(pair, sealed)).toBe(KEY);
  });

  it("never seal the same key to the same text twice", () => {
    expect(seal(pair.publicKey, KEY)).not.toBe(seal(pair.publicKey, KEY));
  });

  it("refuse another key pair, a changed byte, and garbage", () => {
    const sealed = seal(pair.publicKey, KEY);
    expect(() => open(other, sealed)).toThrow(/was the root secret rotated/);
    const parts = sealed.split(".");
    const body = Buffer.from(parts[4] ?? "", "base64url");
    body[0] = (body[0] ?? 0) ^ 1;
    parts[4] = body.toString("base64url");
    expect(() => open(pair, parts.join("."))).toThrow(SealedSecretError);
    expect(() => open(pair, "sk-plain-text")).toThrow(/not a sealed secret/);
  });
});
