/**
 * Failures the portal hides from the people it serves go to the server's log instead, in full
 * (message and stack), as one JSON line on stderr.
 */
export function logServerError(msg: string, error: unknown, context: Record<string, unknown> = {}): void {
  const detail =
    error instanceof Error ? { error: error.message, stack: error.stack } : { error: String(error) };
  process.stderr.write(
    `${JSON.stringify({ level: "error", msg, ...context, ...detail, time: new Date().toISOString() })}\n`,
  );
}
