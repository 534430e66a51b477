/**
 * The seeds that invalidate by deleting the key: cache-aside, delete-then-update, delayed double
 * delete, and TTL only (no invalidation at all). All read the same way: GET; on a miss read the
 * database and SET (plain-cache.ts).
 */
import { nextItemValue, updateItem } from '../item-table.js';
import type { LabStrategy, StrategyContext, StrategyDefinition } from '../strategy.js';
import { plainCacheOf, type PlainCache } from './plain-cache.js';

function plainStrategy(ctx: StrategyContext, cache: PlainCache, write: (id: number) => Promise<void>, extra: Partial<LabStrategy> = {}): LabStrategy {
  return {
    write,
    read: (id) => cache.readThrough(ctx, id),
    peek: (ids, redis) => cache.peek(ids, redis),
    crash: () => {},
    workers: [],
    settled: async () => true,
    stop: async () => {},
    ...extra,
  };
}

/**
 * Cache-aside ("update the database, then delete the cache"): 1. UPDATE and commit; 2. DEL the
 * key. Readers: GET, on a miss SELECT and SET.
 */
export const cacheAside: StrategyDefinition = {
  name: 'cache-aside',
  steps: 'update the database, then delete the key; readers GET, on a miss read the database and SET',
  failureMode:
    'A reader that read the row just before a write SETs that old value after the write\'s DEL: the key then stays stale until its TTL or the next write. ' +
    'A DEL lost to a Redis error or an app crash after the commit leaves the old entry in place the same way.',
  async create(ctx) {
    const cache = plainCacheOf(ctx);
    return plainStrategy(ctx, cache, async (id) => {
      const value = nextItemValue(id);
      ctx.committed(id, await updateItem(ctx.writePool, ctx.name, value), value.name);
      if (ctx.diesHere()) return;
      await cache.del(id);
    });
  },
};

/** Delete then update: 1. DEL the key; 2. UPDATE and commit. */
export const deleteFirst: StrategyDefinition = {
  name: 'delete-first',
  steps: 'delete the key, then update the database',
  failureMode:
    'Between the DEL and the commit any reader misses, reads the old row and caches it: the new version is then never cached until the TTL. ' +
    'It needs no slow reader at all, only a read during the write.',
  async create(ctx) {
    const cache = plainCacheOf(ctx);
    return plainStrategy(ctx, cache, async (id) => {
      const value = nextItemValue(id);
      await cache.del(id);
      if (ctx.diesHere()) return;
      ctx.committed(id, await updateItem(ctx.writePool, ctx.name, value), value.name);
    });
  },
};

/** Options of {@link delayedDoubleDelete}. */
export interface DoubleDeleteOptions {
  /** The sleep between the update and the second delete, ms. */
  readonly sleepMs: number;
}

/**
 * Delayed double delete: 1. DEL the key; 2. UPDATE and commit; 3. sleep N ms (here a scheduled
 * task, as the articles' thread-pool versions do, so the writer is not held); 4. DEL again.
 */
export function delayedDoubleDelete(options: DoubleDeleteOptions): StrategyDefinition {
  return {
    name: 'double-delete',
    steps: `delete the key, update the database, sleep ${options.sleepMs} ms, delete the key again`,
    failureMode:
      `The second delete only clears fills that happened within its ${options.sleepMs} ms sleep: a reader slower than that (or one whose fill lands after the second DEL) caches the old row for good. ` +
      'The second delete lives in the app\'s memory: a crash or a Redis error during the sleep loses it.',
    async create(ctx) {
      const cache = plainCacheOf(ctx);
      const pending = new Set<NodeJS.Timeout>();
      const secondDelete = (id: number): void => {
        const timer = setTimeout(() => {
          pending.delete(timer);
          cache.del(id).catch(ctx.onBackgroundError);
        }, options.sleepMs);
        pending.add(timer);
      };
      const dropPending = (): void => {
        for (const timer of pending) clearTimeout(timer);
        pending.clear();
      };
      return plainStrategy(ctx, cache, async (id) => {
        const value = nextItemValue(id);
        await cache.del(id);
        ctx.committed(id, await updateItem(ctx.writePool, ctx.name, value), value.name);
        if (ctx.diesHere()) return;
        secondDelete(id);
      }, { crash: dropPending, settled: async () => pending.size === 0, stop: async () => dropPending() });
    },
  };
}

/** Options of {@link ttlOnly}. */
export interface TtlOnlyOptions {
  /** TTL of every entry, ms: the staleness bound. */
  readonly ttlMs: number;
}

/** TTL only: 1. UPDATE and commit; nothing else. Entries expire after a short TTL. */
export function ttlOnly(options: TtlOnlyOptions): StrategyDefinition {
  return {
    name: 'ttl-only',
    steps: `update the database only; entries expire ${options.ttlMs / 1000} s after their fill`,
    failureMode:
      `Every write is invisible to readers until the entry expires: stale reads up to ${options.ttlMs / 1000} s after each write, by design; nothing stays stale longer. ` +
      'A shorter TTL means more database reads.',
    async create(ctx) {
      const cache = plainCacheOf(ctx, options.ttlMs);
      return plainStrategy(ctx, cache, async (id) => {
        const value = nextItemValue(id);
        ctx.committed(id, await updateItem(ctx.writePool, ctx.name, value), value.name);
      });
    },
  };
}
