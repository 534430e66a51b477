/**
 * The two caches the demo compares, over the same `product` table and the same Redis:
 * - guarded: the project's read-through (fills only through the version guard), invalidated by
 *   the embedded relay from the outbox;
 * - plain cache-aside: GET; on a miss read the database and SET; the writer DELs after commit.
 * Both readers wait the same `fillDelayMs()` between their database read and their cache fill, to
 * make the classic race (a slow reader writes back what it read before a concurrent write) show up
 * within seconds instead of hours.
 */
import type { Redis } from 'ioredis';
import type { Pool } from 'mysql2/promise';
import { createReadThrough } from '../cache/read-through.js';
import { decodeStoredValue } from '../cache/stored-value.js';
import { sleep } from '../retry.js';
import { loadProduct, productKey, type ProductValue, type VersionedProduct } from './product-table.js';

/** What one read returned. */
export interface DemoRead {
  readonly hit: boolean;
  readonly version: bigint;
  /** The version guard refused this reader's fill (a newer version or tombstone was there). */
  readonly refused?: boolean;
}

/** A cache under test. */
export interface DemoCache {
  read(id: number): Promise<DemoRead>;
  /** The writer's step after its commit (cache-aside's DEL; nothing for the guarded cache). */
  afterCommit(id: number): Promise<void>;
  /** Version of every key among `ids` that holds a cached value (not missing, not a tombstone). */
  cachedVersions(ids: readonly number[]): Promise<Map<number, bigint>>;
}

/** What both caches need. */
export interface DemoCacheOptions {
  /** Client with a bounded command queue (`maxRetriesPerRequest` set), no keyPrefix. */
  readonly redis: Redis;
  /** Pool of the readers (not the writers', not the relay's). */
  readonly pool: Pool;
  /** Prefix of this cache's keys; the two caches must use different ones. */
  readonly keyPrefix: string;
  /** Pause between the database read and the fill, ms (e.g. random in [0, 20)). */
  readonly fillDelayMs: () => number;
  /** TTL of entries, ms. */
  readonly entryTtlMs: number;
}

async function loadWithDelay(options: DemoCacheOptions, id: number): Promise<VersionedProduct> {
  const loaded = await loadProduct(options.pool, id);
  if (!loaded) throw new Error(`product ${id} does not exist`);
  const pause = options.fillDelayMs();
  if (pause > 0) await sleep(pause);
  return loaded;
}

/** The version-guarded read-through (the sink's, or here the relay's, invalidations keep it right). */
export function guardedCache(options: DemoCacheOptions): DemoCache {
  const cache = createReadThrough<ProductValue>({
    redis: options.redis,
    codec: 'json',
    entryTtlMs: options.entryTtlMs,
    loader: (key) => loadWithDelay(options, Number(key.slice(key.lastIndexOf(':') + 1))),
  });
  return {
    async read(id) {
      const result = await cache.read(productKey(options.keyPrefix, id));
      return { hit: result.source === 'cache', version: result.version, refused: result.fill === 'refused' || result.fill === 'too-old' };
    },
    afterCommit: async () => {},
    async cachedVersions(ids) {
      const raw = ids.length ? await options.redis.mgetBuffer(...ids.map((id) => productKey(options.keyPrefix, id))) : [];
      const out = new Map<number, bigint>();
      ids.forEach((id, i) => {
        const stored = decodeStoredValue(raw[i]);
        if (stored && (stored.state === 'entry' || stored.state === 'absent')) out.set(id, stored.version);
      });
      return out;
    },
  };
}

interface PlainEntry {
  readonly version: string;
  readonly value: ProductValue;
}

/** Plain cache-aside, as most applications write it. */
export function plainCache(options: DemoCacheOptions): DemoCache {
  const key = (id: number): string => productKey(options.keyPrefix, id);
  return {
    async read(id) {
      const cached = await options.redis.get(key(id));
      if (cached !== null) return { hit: true, version: BigInt((JSON.parse(cached) as PlainEntry).version) };
      const loaded = await loadWithDelay(options, id);
      const entry: PlainEntry = { version: loaded.version.toString(), value: loaded.value };
      await options.redis.set(key(id), JSON.stringify(entry), 'PX', options.entryTtlMs);
      return { hit: false, version: loaded.version };
    },
    async afterCommit(id) {
      await options.redis.del(key(id));
    },
    async cachedVersions(ids) {
      const raw = ids.length ? await options.redis.mget(...ids.map(key)) : [];
      const out = new Map<number, bigint>();
      ids.forEach((id, i) => {
        const text = raw[i];
        if (text) out.set(id, BigInt((JSON.parse(text) as PlainEntry).version));
      });
      return out;
    },
  };
}
