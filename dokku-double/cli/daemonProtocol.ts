/**
 * Frames between the double's daemon and its per-command client
 * (`dokku-double/client/main.go`, which holds the same table): one type byte,
 * a 32-bit big-endian length, the payload.
 */
import type { Socket } from "node:net";

export const FRAME = {
  /** client → daemon: the command, JSON {@link ClientRequest}. */
  request: "R",
  /** daemon → client: take the state flock; client → daemon: taken. */
  lock: "L",
  /** daemon → client: release the state flock. */
  unlock: "U",
  /** daemon → client: forward stdin, payload `line` or `all`; client → daemon: stdin bytes. */
  read: "I",
  /** client → daemon: stdin reached EOF. */
  eof: "E",
  stdout: "O",
  stderr: "e",
  /** daemon → client: decimal exit code; the client exits with it. */
  exit: "X",
  /** daemon → client: a fault drops the connection; the client kills its sshd session. */
  drop: "D",
} as const;

export type FrameType = (typeof FRAME)[keyof typeof FRAME];

export interface Frame {
  type: string;
  payload: Buffer;
}

export interface ClientRequest {
  argv: string[];
  env: Record<string, string>;
  stdinTty: boolean;
}

export class ProtocolError extends Error {
  override readonly name = "ProtocolError";
}

export function encodeFrame(type: FrameType, payload: Buffer | string = ""): Buffer {
  const body = typeof payload === "string" ? Buffer.from(payload, "utf8") : payload;
  const header = Buffer.alloc(5);
  header.write(type, 0, "latin1");
  header.writeUInt32BE(body.length, 1);
  return Buffer.concat([header, body]);
}

/** Parsed at the edge: anything but the expected shape is refused with what was wrong. */
export function parseClientRequest(payload: Buffer): ClientRequest {
  const value: unknown = JSON.parse(payload.toString("utf8"));
  if (typeof value !== "object" || value === null) throw new ProtocolError("request is not an object");
  const { argv, env, stdinTty } = value as Record<string, unknown>;
  if (!Array.isArray(argv) || !argv.every((word) => typeof word === "string"))
    throw new ProtocolError("request argv is not a list of strings");
  if (typeof env !== "object" || env === null || !Object.values(env).every((v) => typeof v === "string"))
    throw new ProtocolError("request env is not a map of strings");
  if (typeof stdinTty !== "boolean") throw new ProtocolError("request stdinTty is not a boolean");
  return { argv, env: env as Record<string, string>, stdinTty };
}

/** Reads frames off a socket in order; `next()` rejects once the peer is gone. */
export class FrameReader {
  private buffer = Buffer.alloc(0);
  private readonly frames: Frame[] = [];
  private waiting: { resolve: (frame: Frame) => void; reject: (error: Error) => void } | undefined;
  private closed: Error | undefined;

  constructor(socket: Socket) {
    socket.on("data", (chunk: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      for (;;) {
        if (this.buffer.length < 5) break;
        const length = this.buffer.readUInt32BE(1);
        if (this.buffer.length < 5 + length) break;
        const frame = {
          type: this.buffer.toString("latin1", 0, 1),
          payload: Buffer.from(this.buffer.subarray(5, 5 + length)),
        };
        this.buffer = this.buffer.subarray(5 + length);
        this.deliver(frame);
      }
    });
    const close = (): void => this.fail(new ProtocolError("the client went away"));
    socket.on("close", close);
    socket.on("error", close);
  }

  next(): Promise<Frame> {
    const frame = this.frames.shift();
    if (frame) return Promise.resolve(frame);
    if (this.closed) return Promise.reject(this.closed);
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
    });
  }

  /** The next frame, which must be of `type`. */
  async expect(type: FrameType): Promise<Frame> {
    const frame = await this.next();
    if (frame.type !== type) throw new ProtocolError(`expected frame ${type}, got ${frame.type}`);
    return frame;
  }

  private deliver(frame: Frame): void {
    const waiting = this.waiting;
    this.waiting = undefined;
    if (waiting) waiting.resolve(frame);
    else this.frames.push(frame);
  }

  private fail(error: Error): void {
    this.closed ??= error;
    const waiting = this.waiting;
    this.waiting = undefined;
    waiting?.reject(error);
  }
}
