/**
 * Secrets customers give the platform (model provider keys), sealed for the
 * reconcile worker: X25519 with a fresh ephemeral key per secret, HKDF-SHA256,
 * AES-256-GCM. Whoever holds the public key (the portal) can seal, only the
 * holder of the private key (the worker, which derives it from the root
 * secret) can open: a portal compromise reveals no stored key. The sealed text
 * names the key it was sealed to, so a rotated key is recognised, not misread.
 */
import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  hkdfSync,
  type KeyObject,
  randomBytes,
} from "node:crypto";

const VERSION = "sealed-v1";
/** PKCS#8 DER prefix of a raw X25519 private key (RFC 8410). */
const X25519_PKCS8_PREFIX = Buffer.from("302e020100300506032b656e04220420", "hex");
/** SPKI DER prefix of a raw X25519 public key. */
const X25519_SPKI_PREFIX = Buffer.from("302a300506032b656e032100", "hex");

export class SealedSecretError extends Error {
  override readonly name = "SealedSecretError";
}

export interface SealingKeyPair {
  /** The raw public key, base64url (what the portal is configured with). */
  readonly publicKey: string;
  readonly privateKey: KeyObject;
}

/** The key pair from a 32-byte seed (hex), e.g. derived from the root secret. */
export function sealingKeyPair(seedHex: string): SealingKeyPair {
  const seed = Buffer.from(seedHex, "hex");
  if (seed.length !== 32) throw new SealedSecretError("a sealing key seed is 64 hex characters");
  const privateKey = createPrivateKey({
    key: Buffer.concat([X25519_PKCS8_PREFIX, seed]),
    format: "der",
    type: "pkcs8",
  });
  const spki = createPublicKey(privateKey).export({ format: "der", type: "spki" });
  return { publicKey: spki.subarray(X25519_SPKI_PREFIX.length).toString("base64url"), privateKey };
}

function publicKeyObject(raw: string): KeyObject {
  const bytes = Buffer.from(raw, "base64url");
  if (bytes.length !== 32) throw new SealedSecretError("a sealing public key is 32 bytes, base64url");
  return createPublicKey({ key: Buffer.concat([X25519_SPKI_PREFIX, bytes]), format: "der", type: "spki" });
}

/** The short id of a public key (first 8 bytes of its SHA-256), written into what it seals. */
export function keyId(publicKey: string): string {
  return createHash("sha256").update(Buffer.from(publicKey, "base64url")).digest("hex").slice(0, 16);
}

function aesKey(shared: Buffer, ephemeral: Buffer, recipient: Buffer): Buffer {
  return Buffer.from(hkdfSync("sha256", shared, Buffer.concat([ephemeral, recipient]), VERSION, 32));
}

/** Seals `plaintext` to the holder of `publicKey`'s private key. */
export function seal(publicKey: string, plaintext: string): string {
  const recipient = publicKeyObject(publicKey);
  const ephemeral = generateKeyPairSync("x25519");
  const ephemeralRaw = ephemeral.publicKey
    .export({ format: "der", type: "spki" })
    .subarray(X25519_SPKI_PREFIX.length);
  const shared = diffieHellman({ privateKey: ephemeral.privateKey, publicKey: recipient });
  const key = aesKey(shared, ephemeralRaw, Buffer.from(publicKey, "base64url"));
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", key, iv);
  const body = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final(), cipher.getAuthTag()]);
  return [
    VERSION,
    keyId(publicKey),
    ephemeralRaw.toString("base64url"),
    iv.toString("base64url"),
    body.toString("base64url"),
  ].join(".");
}

/** Opens what `seal` made for this key pair; a wrong key or a changed byte is an error, never garbage. */
export function open(pair: SealingKeyPair, sealed: string): string {
  const [version, kid, ephemeral, iv, body] = sealed.split(".");
  if (version !== VERSION || !kid || !ephemeral || !iv || !body)
    throw new SealedSecretError("not a sealed secret");
  if (kid !== keyId(pair.publicKey))
    throw new SealedSecretError(
      `sealed to key ${kid}, not this worker's ${keyId(pair.publicKey)}: was the root secret rotated?`,
    );
  const ephemeralRaw = Buffer.from(ephemeral, "base64url");
  const shared = diffieHellman({ privateKey: pair.privateKey, publicKey: publicKeyObject(ephemeral) });
  const key = aesKey(shared, ephemeralRaw, Buffer.from(pair.publicKey, "base64url"));
  const data = Buffer.from(body, "base64url");
  if (data.length < 16) throw new SealedSecretError("sealed secret is truncated");
  const decipher = createDecipheriv("aes-256-gcm", key, Buffer.from(iv, "base64url"));
  decipher.setAuthTag(data.subarray(data.length - 16));
  try {
    return Buffer.concat([decipher.update(data.subarray(0, data.length - 16)), decipher.final()]).toString(
      "utf8",
    );
  } catch {
    throw new SealedSecretError(
      "sealed secret does not open with this key (tampered, or sealed to another key)",
    );
  }
}
