/**
 * A minimal ustar archive of `server.crt` and `server.key`, the stdin format of
 * `dokku certs:add <app>`. PEM text and tar headers are ASCII, so the archive
 * travels intact as the (UTF-8) stdin string of a remote command.
 */

const BLOCK = 512;

function field(value: string, length: number): Buffer {
  const buf = Buffer.alloc(length);
  buf.write(value, "ascii");
  return buf;
}

function octal(value: number, length: number): Buffer {
  return field(`${value.toString(8).padStart(length - 1, "0")}\0`, length);
}

function header(name: string, size: number): Buffer {
  const h = Buffer.concat([
    field(name, 100),
    octal(0o600, 8),
    octal(0, 8),
    octal(0, 8),
    octal(size, 12),
    octal(0, 12),
    Buffer.from("        ", "ascii"), // checksum placeholder: eight spaces while summing
    field("0", 1),
    field("", 100),
    field("ustar\x0000", 8),
    field("", 32),
    field("", 32),
    octal(0, 8),
    octal(0, 8),
    field("", 155),
    field("", 12),
  ]);
  let sum = 0;
  for (const byte of h) sum += byte;
  octal(sum, 7).copy(h, 148);
  h[155] = 0x20;
  return h;
}

export function certificateTar(certificatePem: string, keyPem: string): string {
  const parts: Buffer[] = [];
  for (const [name, text] of [
    ["server.crt", certificatePem],
    ["server.key", keyPem],
  ] as const) {
    if (!/^[\x20-\x7e\r\n]*$/.test(text)) throw new Error(`${name} must be PEM text (printable ASCII)`);
    const body = Buffer.from(text, "ascii");
    parts.push(header(name, body.length), body, Buffer.alloc((BLOCK - (body.length % BLOCK)) % BLOCK));
  }
  parts.push(Buffer.alloc(BLOCK * 2));
  return Buffer.concat(parts).toString("latin1");
}
