/**
 * Group commit: requests that arrive while a batch is being written wait and go together in the
 * next one, so a burst shares statements and one commit instead of paying a transaction each.
 * A lone request is written at once (no timer: nothing waits that need not). One batch is written
 * at a time, which also keeps two of our own transactions from locking the same rows in opposite
 * orders. Each caller's promise settles only when its own item's batch has committed (or failed).
 *
 * A batch failed by one of its items (`splitOn`) is written again item by item, so the bad item
 * fails alone instead of taking the others with it; a batch failed by something else (the database
 * is down) fails every item at once, rather than each waiting out the same failure in turn.
 */
export type BatchWriter<T, R> = (items: readonly T[]) => Promise<readonly R[]>;

interface Waiting<T, R> {
  readonly item: T;
  readonly resolve: (result: R) => void;
  readonly reject: (error: unknown) => void;
}

export class GroupCommit<T, R> {
  readonly #write: BatchWriter<T, R>;
  readonly #maxBatch: number;
  readonly #splitOn: (error: unknown) => boolean;
  #waiting: Waiting<T, R>[] = [];
  #writing = false;

  /**
   * `write` gets a batch and returns one result per item, in order; a throw fails the batch.
   * `splitOn` says whether a batch's error may be one item's doing (default: always).
   */
  constructor(
    write: BatchWriter<T, R>,
    options: { readonly maxBatch?: number; readonly splitOn?: (error: unknown) => boolean } = {},
  ) {
    this.#write = write;
    this.#maxBatch = options.maxBatch ?? 200;
    this.#splitOn = options.splitOn ?? (() => true);
  }

  submit(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.#waiting.push({ item, resolve, reject });
      this.#pump();
    });
  }

  #pump(): void {
    if (this.#writing || this.#waiting.length === 0) return;
    const batch = this.#waiting.splice(0, this.#maxBatch);
    this.#writing = true;
    this.#settle(batch).finally(() => {
      this.#writing = false;
      this.#pump();
    });
  }

  async #settle(batch: readonly Waiting<T, R>[]): Promise<void> {
    try {
      const results = await this.#writeAll(batch.map((w) => w.item));
      for (const [i, w] of batch.entries()) w.resolve(results[i] as R);
      return;
    } catch (error) {
      if (batch.length === 1 || !this.#splitOn(error)) {
        for (const w of batch) w.reject(error);
        return;
      }
    }
    for (const waiting of batch) {
      try {
        const [result] = await this.#writeAll([waiting.item]);
        waiting.resolve(result as R);
      } catch (error) {
        waiting.reject(error);
      }
    }
  }

  async #writeAll(items: readonly T[]): Promise<readonly R[]> {
    const results = await this.#write(items);
    if (results.length !== items.length)
      throw new Error(`batch writer returned ${results.length} results for ${items.length} items`);
    return results;
  }
}
