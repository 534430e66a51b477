/**
 * The demo's bookkeeping, pure: which version of each key the database had committed when, and
 * per cache the reads, hits and stale reads seen. A read is stale when it returns a version lower
 * than one whose commit had already returned to its writer before the read started: that version
 * was certainly in the database, so any correct cache could have served it.
 */

/** Highest committed version per key, and when each version's commit returned (ms, monotonic clock). */
export class CommitBook {
  readonly #latest = new Map<number, bigint>();
  readonly #returnedAt = new Map<string, number>();

  /** Records that the commit of `version` of key `id` returned at `atMs`. */
  committed(id: number, version: bigint, atMs: number): void {
    this.#returnedAt.set(`${id}:${version}`, atMs);
    if (version > (this.#latest.get(id) ?? 0n)) this.#latest.set(id, version);
  }

  /** Highest version of `id` whose commit has returned; 0n before any. */
  latest(id: number): bigint {
    return this.#latest.get(id) ?? 0n;
  }

  /** When the commit of `version` of `id` returned, if it was recorded. */
  returnedAt(id: number, version: bigint): number | undefined {
    return this.#returnedAt.get(`${id}:${version}`);
  }
}

/** One read as a cache reader saw it. Times in ms on the same clock as the {@link CommitBook}. */
export interface ReadSample {
  readonly id: number;
  /** True when the value came from the cache, false when from the database. */
  readonly hit: boolean;
  /** True when the version guard refused the reader's fill (a newer state was in Redis). */
  readonly refused?: boolean;
  readonly version: bigint;
  readonly startedAtMs: number;
  /** `book.latest(id)` taken when the read started. */
  readonly committedBefore: bigint;
}

/** A read is stale when it returns a version below one committed before it started. */
export function isStaleRead(sample: Pick<ReadSample, 'version' | 'committedBefore'>): boolean {
  return sample.version < sample.committedBefore;
}

/** Counters of one cache. `oldestStaleMs`: the longest time a stale read came after the write it missed. */
export interface CacheCounters {
  readonly reads: number;
  readonly hits: number;
  readonly staleReads: number;
  readonly oldestStaleMs: number;
  /** Fills the version guard refused (always 0 for a cache without one). */
  readonly refusedFills: number;
}

/** Counts the reads of one cache. */
export class CacheTally {
  #reads = 0;
  #hits = 0;
  #stale = 0;
  #oldestStaleMs = 0;
  #refused = 0;

  /** Counts `sample`; a stale read's age is measured from the commit of the first version it missed. */
  record(sample: ReadSample, book: CommitBook): void {
    this.#reads += 1;
    if (sample.hit) this.#hits += 1;
    if (sample.refused) this.#refused += 1;
    if (!isStaleRead(sample)) return;
    this.#stale += 1;
    const missed = book.returnedAt(sample.id, sample.version + 1n);
    if (missed !== undefined) this.#oldestStaleMs = Math.max(this.#oldestStaleMs, sample.startedAtMs - missed);
  }

  /** The counts so far. */
  counters(): CacheCounters {
    return { reads: this.#reads, hits: this.#hits, staleReads: this.#stale, oldestStaleMs: this.#oldestStaleMs, refusedFills: this.#refused };
  }
}

/** Hit rate in [0, 1]; 0 without reads. */
export function hitRate(counters: Pick<CacheCounters, 'reads' | 'hits'>): number {
  return counters.reads === 0 ? 0 : counters.hits / counters.reads;
}

/**
 * Keys whose cached version differs from the database's: `cached` holds the version of each key
 * that has a cached value (entries only: missing keys and tombstones are not cached values).
 */
export function staleKeys(database: ReadonlyMap<number, bigint>, cached: ReadonlyMap<number, bigint>): number[] {
  const stale: number[] = [];
  for (const [id, version] of cached) {
    if (database.get(id) !== version) stale.push(id);
  }
  return stale.sort((a, b) => a - b);
}
