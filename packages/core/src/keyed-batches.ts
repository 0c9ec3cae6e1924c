/**
 * Group commit per key: one batch in flight per key, and what arrives for that key meanwhile
 * waits and goes together as the next batch. An idle key's batch starts on the next turn of the
 * event loop (no timer), so the requests read in one round of I/O share it: a store that answers
 * without waiting for I/O (embedded PGlite runs a statement synchronously) would otherwise finish
 * each batch before the next connection's request is even read, one request per batch. Under load
 * a batch holds whatever arrived during one round trip. The C2D queue and the twin service batch
 * their commit lanes this way.
 * @module
 */

/** One request in a batch; the batch settles each, in any order. */
export interface BatchEntry<T, R> {
  readonly request: T;
  resolve(result: R): void;
  reject(error: unknown): void;
}

/**
 * Runs one batch of one key. It should settle every entry; the entries it leaves unsettled fail
 * with the error it threw, or with an error saying so when it returned.
 */
export type BatchRunner<K, T, R> = (key: K, batch: readonly BatchEntry<T, R>[]) => Promise<void>;

/**
 * @example
 * const settlements = new KeyedBatches<string, string, void>(async (deviceId, batch) => {
 *   await store.complete(deviceId, batch.map((entry) => entry.request));
 *   for (const entry of batch) entry.resolve();
 * });
 * await settlements.submit('dev1', lockToken);
 */
export class KeyedBatches<K, T, R> {
  readonly #run: BatchRunner<K, T, R>;
  /** Keys with a batch in flight, and the requests waiting for the next one. */
  readonly #waiting = new Map<K, BatchEntry<T, R>[]>();

  constructor(run: BatchRunner<K, T, R>) {
    this.#run = run;
  }

  submit(key: K, request: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      const entry = { request, resolve, reject };
      const waiting = this.#waiting.get(key);
      if (waiting) {
        waiting.push(entry);
        return;
      }
      this.#waiting.set(key, [entry]);
      setImmediate(() => void this.#drain(key));
    });
  }

  async #drain(key: K): Promise<void> {
    for (;;) {
      const waiting = this.#waiting.get(key)!;
      if (waiting.length === 0) {
        this.#waiting.delete(key);
        return;
      }
      await this.#runBatch(key, waiting.splice(0));
    }
  }

  async #runBatch(key: K, entries: BatchEntry<T, R>[]): Promise<void> {
    const batch = entries.map(settleOnce);
    let leftover: unknown = new Error('The batch ended without settling this request');
    try {
      await this.#run(key, batch);
    } catch (error) {
      leftover = error;
    }
    for (const entry of batch) entry.reject(leftover);
  }
}

/** The entry as the runner sees it: settling it a second time does nothing. */
function settleOnce<T, R>(entry: BatchEntry<T, R>): BatchEntry<T, R> {
  let isSettled = false;
  return {
    request: entry.request,
    resolve: (result) => {
      if (isSettled) return;
      isSettled = true;
      entry.resolve(result);
    },
    reject: (error) => {
      if (isSettled) return;
      isSettled = true;
      entry.reject(error);
    },
  };
}
