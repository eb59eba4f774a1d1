/**
 * The service's one HTTP error type: a status, a stable `code` for clients and logs, and whether
 * the message may be shown (`expose`, as Koa's own errors have it). app.ts renders every error as
 * `{ error: { code, message } }`, hiding the message of anything not exposed.
 */
export class HttpError extends Error {
  override readonly name = "HttpError";
  readonly status: number;
  readonly code: string;
  readonly expose: boolean;
  /** Extra response headers (`Retry-After`). */
  readonly headers: Readonly<Record<string, string>>;

  constructor(
    status: number,
    code: string,
    message: string,
    options: { expose?: boolean; cause?: unknown; headers?: Record<string, string> } = {},
  ) {
    super(message, { cause: options.cause });
    this.status = status;
    this.code = code;
    this.expose = options.expose ?? status < 500;
    this.headers = options.headers ?? {};
  }
}
