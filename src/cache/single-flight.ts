/**
 * Single-flight per key within one process: concurrent callers for the same key share one
 * in-flight promise instead of each loading from the database. Pure (no I/O of its own).
 */
export class SingleFlight<T> {
  private readonly inFlight = new Map<string, Promise<T>>();

  /** Runs `fn` for `key` unless a run for `key` is in flight, in which case its promise is shared. */
  run(key: string, fn: () => Promise<T>): Promise<T> {
    const existing = this.inFlight.get(key);
    if (existing) return existing;
    const promise = fn().finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, promise);
    return promise;
  }

  /** Number of keys with a run in flight. */
  get size(): number {
    return this.inFlight.size;
  }
}
