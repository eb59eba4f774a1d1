/**
 * Failures the portal hides from the people it serves go to the server's log instead, in full
 * (message and stack, secrets masked by the one logger), with the request they happened in.
 */
import { log } from "./log.ts";
import { currentRequestId } from "./requestLog.ts";

export function logServerError(msg: string, error: unknown, context: Record<string, unknown> = {}): void {
  const requestId = currentRequestId();
  log.error(msg, { ...context, error, ...(requestId ? { requestId } : {}) });
}
