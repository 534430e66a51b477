/**
 * Write-behind (write-back): the cache is written first and acknowledged; a flusher writes the
 * database later. Steps: 1. take the next version of the key (the app's counter, seeded from the
 * database); 2. SET the new value; 3. acknowledge; 4. queue it; a flusher every `flushMs` writes
 * the latest queued value per key to MySQL (`... WHERE version < ?`). Readers GET; on a miss they
 * read the database and SET, as the caching layers that offer write-behind do.
 */
import { flushItem, loadItem, nextItemValue, type ItemValue } from '../item-table.js';
import type { StrategyDefinition } from '../strategy.js';
import { plainCacheOf } from './plain-cache.js';

/** Options of {@link writeBehind}. */
export interface WriteBehindOptions {
  /** Flush interval, ms. */
  readonly flushMs: number;
}

/** Write-behind, flushing every `flushMs`. Its queue lives in the app's memory, as in the articles. */
export function writeBehind(options: WriteBehindOptions): StrategyDefinition {
  return {
    name: 'write-behind',
    steps: `SET the new value and acknowledge; a flusher writes queued values to the database every ${options.flushMs} ms`,
    failureMode:
      'Acknowledged writes live only in the cache and the app\'s queue until flushed: an app crash loses them (lost writes), a Redis restart drops the cached copy while the database still holds the older row, which readers then cache. ' +
      'After a crash the version counter restarts from the database, so a new write can reuse the number of a lost one.',
    acknowledgesBeforeCommit: true,
    async create(ctx) {
      const cache = plainCacheOf(ctx);
      const counters = new Map<number, bigint>();
      let queue = new Map<number, { value: ItemValue; version: bigint }>();
      let flushing: Promise<void> = Promise.resolve();

      const flush = async (): Promise<void> => {
        const batch = queue;
        queue = new Map();
        for (const [id, item] of batch) {
          try {
            await flushItem(ctx.writePool, ctx.name, item.value, item.version);
          } catch (err) {
            // Keep it for the next round unless a newer write replaced it.
            if (!queue.has(id)) queue.set(id, item);
            ctx.onBackgroundError(err);
          }
        }
      };
      const timer = setInterval(() => {
        flushing = flushing.then(flush);
      }, options.flushMs);

      return {
        async write(id) {
          const known = counters.get(id) ?? (await loadItem(ctx.writePool, ctx.name, id)).version;
          const version = known + 1n;
          counters.set(id, version);
          const value = nextItemValue(id);
          await cache.set({ version, value });
          ctx.committed(id, version, value.name);
          if (ctx.diesHere()) return;
          // The highest version wins, whichever writer queues last.
          if ((queue.get(id)?.version ?? 0n) < version) queue.set(id, { value, version });
        },
        read: (id) => cache.readThrough(ctx, id),
        peek: (ids, redis) => cache.peek(ids, redis),
        crash() {
          queue = new Map();
          counters.clear();
        },
        workers: [],
        settled: async () => {
          await flushing;
          return queue.size === 0;
        },
        async stop() {
          clearInterval(timer);
          await flushing;
          await flush();
        },
      };
    },
  };
}
