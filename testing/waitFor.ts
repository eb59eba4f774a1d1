/**
 * Waiting in a test for what another process does (the worker, the engine, a browser page): the
 * probe runs until it gives a value, for as long as a loaded machine may need, and the failure
 * names what was awaited (and, from `explain`, what was seen instead). Tests synchronise on a
 * condition like this, never on a sleep.
 */
export interface WaitOptions {
  readonly timeoutMs: number;
  /** Pause between probes (default 500 ms). */
  readonly intervalMs?: number;
  /** What the timeout's error adds: the state that was seen instead. */
  readonly explain?: () => Promise<string> | string;
}

export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined> | T | undefined,
  options: WaitOptions,
): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) {
      const seen = options.explain ? ` ${await options.explain()}` : "";
      throw new Error(`timed out after ${options.timeoutMs / 1000} s waiting for ${what}${seen}`);
    }
    await new Promise((done) => setTimeout(done, options.intervalMs ?? 500));
  }
}
