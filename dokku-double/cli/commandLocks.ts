/**
 * Which commands wait for which: Dokku runs commands for different apps side by
 * side and serialises work on one app behind that app's lock. The daemon does the
 * same with one FIFO queue per subject (the app or service a command names);
 * commands without a subject (`apps:list`, `version`, global settings) wait for
 * nothing. Consistency of the shared state does not depend on this: every state
 * change still happens under the host-wide flock; these locks decide whose
 * latency overlaps with whose.
 */

/**
 * The subject of a command: `--app` if given, else its first argument that is
 * not a flag (`config:set --no-restart my-app K=v` → `my-app`). A flag's value
 * placed before the subject is taken for it; that only merges two queues.
 */
export function commandSubject(argv: readonly string[], appFlag: string): string | null {
  if (appFlag !== "") return appFlag;
  return argv.slice(1).find((word) => !word.startsWith("-") && word !== "") ?? null;
}

export class SubjectLocks {
  private readonly tails = new Map<string, Promise<void>>();

  /** Runs `work` after every earlier holder of `subject` finished (right away for `null`). */
  async run<T>(subject: string | null, work: () => Promise<T>): Promise<T> {
    if (subject === null) return work();
    const previous = this.tails.get(subject) ?? Promise.resolve();
    let release = (): void => undefined;
    const mine = new Promise<void>((resolve) => {
      release = resolve;
    });
    const tail = previous.then(() => mine);
    this.tails.set(subject, tail);
    await previous;
    try {
      return await work();
    } finally {
      release();
      if (this.tails.get(subject) === tail) this.tails.delete(subject);
    }
  }

  /** Subjects with a command running or queued. */
  busy(): string[] {
    return [...this.tails.keys()];
  }
}
