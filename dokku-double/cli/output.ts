/**
 * Dokku's output conventions (plugins/common/log.go and the `dokku_log_*` bash
 * functions), buffered so the entry point decides when and whether anything
 * reaches the client (an injected failure or dropped connection replaces it).
 *
 * info lines and 7-space detail lines go to stdout; ` !     ` warnings and
 * failures go to stderr. The `*Quiet` variants vanish under `--quiet`, which is
 * the only thing `--quiet` does: plain info lines and warnings stay.
 */
export type Stream = "stdout" | "stderr";

export const WARN_PREFIX = " !     ";
export const DETAIL_PREFIX = "       ";

export class Output {
  readonly quiet: boolean;
  private readonly chunks: Array<{ stream: Stream; data: string | Buffer }> = [];

  constructor(quiet: boolean) {
    this.quiet = quiet;
  }

  /** Raw text, exactly as given (no newline added). */
  write(stream: Stream, text: string): void {
    if (text !== "") this.chunks.push({ stream, data: text });
  }

  /** Raw bytes (an export's binary dump), exactly as given. */
  writeBytes(stream: Stream, bytes: Buffer): void {
    if (bytes.length > 0) this.chunks.push({ stream, data: bytes });
  }

  /** `common.Log` / `echo`: the line as is. */
  line(text: string): void {
    this.write("stdout", `${text}\n`);
  }

  lineQuiet(text: string): void {
    if (!this.quiet) this.line(text);
  }

  info1(text: string): void {
    this.line(`-----> ${text}`);
  }

  info1Quiet(text: string): void {
    if (!this.quiet) this.info1(text);
  }

  info2(text: string): void {
    this.line(`=====> ${text}`);
  }

  info2Quiet(text: string): void {
    if (!this.quiet) this.info2(text);
  }

  verbose(text: string): void {
    this.line(`${DETAIL_PREFIX}${text}`);
  }

  verboseQuiet(text: string): void {
    if (!this.quiet) this.verbose(text);
  }

  warn(text: string): void {
    this.write("stderr", `${WARN_PREFIX}${text}\n`);
  }

  warnQuiet(text: string): void {
    if (!this.quiet) this.warn(text);
  }

  /** `LogExclaim`: the warning prefix, but on stdout. */
  exclaim(text: string): void {
    this.line(`${WARN_PREFIX}${text}`);
  }

  /** `LogStderr` / `echo >&2`: unprefixed stderr line. */
  stderrLine(text: string): void {
    this.write("stderr", `${text}\n`);
  }

  text(stream: Stream): string {
    return this.bytes(stream).toString("utf8");
  }

  bytes(stream: Stream): Buffer {
    return Buffer.concat(
      this.chunks
        .filter((chunk) => chunk.stream === stream)
        .map((chunk) => (typeof chunk.data === "string" ? Buffer.from(chunk.data, "utf8") : chunk.data)),
    );
  }
}
