/**
 * Go's `base64.StdEncoding.DecodeString`, including its error text
 * (`illegal base64 data at input byte N`), because `config:set --encoded`
 * surfaces that message verbatim. Padding is mandatory, `\r` and `\n` are
 * skipped, anything else outside the alphabet is an error at its offset.
 */
const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const DECODE = new Map([...ALPHABET].map((c, i) => [c, i]));

export class Base64Error extends Error {
  override readonly name = "Base64Error";
  readonly offset: number;

  constructor(offset: number) {
    super(`illegal base64 data at input byte ${offset}`);
    this.offset = offset;
  }
}

export function goBase64Decode(src: string): Buffer {
  const out: number[] = [];
  let si = 0;
  const isNewline = (i: number): boolean => src[i] === "\n" || src[i] === "\r";
  while (si < src.length) {
    const quantum: number[] = [];
    let dlen = 4;
    let done = false;
    for (let j = 0; j < 4; j++) {
      if (si === src.length) {
        if (j === 0) return Buffer.from(out);
        throw new Base64Error(si - j);
      }
      const c = src[si] ?? "";
      si++;
      const value = DECODE.get(c);
      if (value !== undefined) {
        quantum.push(value);
        continue;
      }
      if (c === "\n" || c === "\r") {
        j--;
        continue;
      }
      if (c !== "=") throw new Base64Error(si - 1);
      // Padding: only valid after two or three data characters.
      if (j === 0 || j === 1) throw new Base64Error(si - 1);
      if (j === 2) {
        while (si < src.length && isNewline(si)) si++;
        if (si === src.length) throw new Base64Error(src.length);
        if (src[si] !== "=") throw new Base64Error(si - 1);
        si++;
      }
      while (si < src.length && isNewline(si)) si++;
      if (si < src.length) throw new Base64Error(si);
      dlen = j;
      done = true;
      break;
    }
    const [a = 0, b = 0, c = 0, d = 0] = quantum;
    const bits = (a << 18) | (b << 12) | (c << 6) | d;
    const bytes = [(bits >> 16) & 0xff, (bits >> 8) & 0xff, bits & 0xff];
    out.push(...bytes.slice(0, dlen - 1));
    if (done) break;
    while (si < src.length && isNewline(si)) si++;
  }
  return Buffer.from(out);
}
