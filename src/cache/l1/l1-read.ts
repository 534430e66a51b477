/**
 * The L1 tier in front of a guarded read path (DESIGN.md §4a). A hit returns from process memory
 * without a Redis round trip; everything else goes through the guarded read path unchanged, and
 * only what that path returned from Redis, or stored there through the guard, enters L1:
 * - an entry or known-absent read from Redis, or a database value whose fill Redis accepted;
 * - never a database value whose fill was refused or failed, nor bounded-stale bytes;
 * - only when the key's invalidation channel was live before the Redis read began, so every
 *   change applied after that read is announced to this process.
 * `minVersion` reads bypass L1 entries below it.
 */
import type { ReadOptions, ReadResult } from '../read-types.js';
import { L1Store, type L1Options } from './l1-store.js';
import { l1SubscriberFor } from './l1-subscriber.js';
import type { GuardRedis } from '../guard-scripts.js';

/** A read path the L1 sits in front of. */
export interface L1Inner<T> {
  read(key: string, options?: ReadOptions): Promise<ReadResult<T>>;
}

/** Hit and fill counters of one L1, with its store's size. */
export interface L1Stats {
  readonly hits: number;
  readonly misses: number;
  readonly fills: number;
  readonly entries: number;
  readonly bytes: number;
  readonly evictions: number;
  /** Times the invalidation subscription was lost and L1 cleared. */
  readonly resets: number;
}

/** The read path with an L1 in front. */
export interface L1Read<T> {
  read(key: string, options?: ReadOptions): Promise<ReadResult<T>>;
  /** Counters since creation. */
  l1Stats(): L1Stats;
  /** Stops listening for invalidations (the last read path of a client closes the subscription). */
  close(): Promise<void>;
}

/**
 * Puts an L1 in front of `inner`. `sizeOf` gives the cached size in bytes of a value (its encoded
 * length), counted against `maxBytes`; `freeze` makes a value safe to share between reads.
 */
export function withL1<T>(
  inner: L1Inner<T>, redis: GuardRedis, options: L1Options, sizeOf: (value: T) => number, freeze: (value: T) => T,
): L1Read<T> {
  // The store holds the frozen result a hit returns, so a hit allocates nothing.
  const store = new L1Store<ReadResult<T>>(options);
  const subscriber = l1SubscriberFor(redis);
  const unregister = subscriber.register(store);
  let hits = 0;
  let misses = 0;
  let fills = 0;

  async function read(key: string, readOptions: ReadOptions = {}): Promise<ReadResult<T>> {
    const entry = store.get(key, readOptions.minVersion);
    if (entry?.value !== undefined) {
      hits += 1;
      return entry.value;
    }
    misses += 1;
    if (!subscriber.isLive(key)) {
      // Subscribe for the next read; this one cannot fill L1 (changes before the confirmation
      // could go unannounced). A Redis failure here shows up in the read itself.
      subscriber.ensure(key).catch(() => undefined);
      return inner.read(key, readOptions);
    }
    const ticket = store.beginFill(key);
    let result: ReadResult<T> | undefined;
    try {
      result = await inner.read(key, readOptions);
      return result;
    } finally {
      if (result !== undefined && cacheable(result)) {
        const value = result.value === undefined ? undefined : freeze(result.value);
        const hit: ReadResult<T> = Object.freeze({ value, version: result.version, source: 'l1' });
        if (store.completeFill(ticket, result.version, hit, value === undefined ? 0 : sizeOf(value))) fills += 1;
      } else {
        store.abandonFill(ticket);
      }
    }
  }

  return {
    read,
    l1Stats: () => ({ hits, misses, fills, ...store.stats(), resets: subscriber.stats().resets }),
    close: unregister,
  };
}

/** What the guard vouches for: read from Redis, or filled into Redis by this read. */
function cacheable(result: ReadResult<unknown>): boolean {
  return result.source === 'cache' || (result.source === 'database' && result.fill === 'filled');
}
