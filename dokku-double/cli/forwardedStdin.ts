/**
 * The daemon's stdin for one command: the bytes its client has forwarded so
 * far. A read that needs more than that throws {@link StdinNeeded}; the command
 * runner then has the client forward more and replays the command after
 * {@link ForwardedStdin.rewind}, so every attempt reads the same bytes.
 */
import { type Stdin, StdinNeeded } from "./context.ts";

export class ForwardedStdin implements Stdin {
  private readonly tty: boolean;
  private received: Buffer[] = [];
  private joined = Buffer.alloc(0);
  private ended = false;
  private position = 0;

  constructor(tty: boolean) {
    this.tty = tty;
  }

  isTty(): boolean {
    return this.tty;
  }

  /** Back to the first byte, for a replay of the command. */
  rewind(): void {
    this.position = 0;
  }

  append(chunk: Buffer): void {
    // Joined on the next read, not per chunk: a dump arrives in many 64 KiB frames.
    this.received.push(chunk);
  }

  private get data(): Buffer {
    if (this.received.length > 0) {
      this.joined = Buffer.concat([this.joined, ...this.received]);
      this.received = [];
    }
    return this.joined;
  }

  /** The client's stdin reached EOF. */
  end(): void {
    this.ended = true;
  }

  /** Whether a line (or EOF) is already buffered past the read position. */
  hasLine(): boolean {
    return this.ended || this.data.indexOf(0x0a, this.position) >= 0;
  }

  readAll(): Buffer {
    if (!this.ended) throw new StdinNeeded("all");
    const rest = Buffer.from(this.data.subarray(this.position));
    this.position = this.data.length;
    return rest;
  }

  readLine(): { line: string; terminated: boolean } {
    const newline = this.data.indexOf(0x0a, this.position);
    if (newline >= 0) {
      const line = this.data.subarray(this.position, newline).toString("utf8");
      this.position = newline + 1;
      return { line, terminated: true };
    }
    if (!this.ended) throw new StdinNeeded("line");
    const line = this.data.subarray(this.position).toString("utf8");
    this.position = this.data.length;
    return { line, terminated: false };
  }
}
