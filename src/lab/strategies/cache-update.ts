/**
 * The seeds that write the new value into the cache instead of deleting it: update the database
 * then the cache, update the cache then the database, and write-through with and without a
 * per-key lock. Their readers fill on a miss with a plain SET (plain-cache.ts), except the locked
 * write-through, whose fills take the same lock as its writes.
 */
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { RowDataPacket } from 'mysql2/promise';
import { OutboxCacheError } from '../../errors.js';
import { sleep } from '../../retry.js';
import { loadItem, nextItemValue, updateItem, updateItemIn } from '../item-table.js';
import type { LabStrategy, StrategyContext, StrategyDefinition } from '../strategy.js';
import { plainCacheOf, type PlainCache } from './plain-cache.js';

function strategy(ctx: StrategyContext, cache: PlainCache, write: (id: number) => Promise<void>, read?: LabStrategy['read']): LabStrategy {
  return {
    write,
    read: read ?? ((id) => cache.readThrough(ctx, id)),
    peek: (ids, redis) => cache.peek(ids, redis),
    crash: () => {},
    workers: [],
    settled: async () => true,
    stop: async () => {},
  };
}

/** Update the database, then the cache: 1. UPDATE and commit; 2. SET the new value. */
export const dbThenCache: StrategyDefinition = {
  name: 'db-then-cache',
  steps: 'update the database, then SET the new value in the cache',
  failureMode:
    'Two writers of one key can commit in one order and SET in the other, and a reader\'s fill of an old row can land after the writer\'s SET: the older value stays. ' +
    'A SET lost to a Redis error or a crash after the commit leaves the old entry.',
  async create(ctx) {
    const cache = plainCacheOf(ctx);
    return strategy(ctx, cache, async (id) => {
      const value = nextItemValue(id);
      const version = await updateItem(ctx.writePool, ctx.name, value);
      ctx.committed(id, version, value.name);
      if (ctx.diesHere()) return;
      await cache.set({ version, value });
    });
  },
};

/**
 * Update the cache, then the database: 1. in a transaction, lock the row and take its version
 * (SELECT ... FOR UPDATE); 2. SET the new value at the next version; 3. UPDATE and commit.
 */
export const cacheThenDb: StrategyDefinition = {
  name: 'cache-then-db',
  steps: 'SET the new value in the cache, then update the database',
  failureMode:
    'The cache serves a value before the database has it: a crash or failed commit after the SET leaves a value that was never committed. ' +
    'A reader that read the old row before the commit can SET it over the new value, which then stays.',
  async create(ctx) {
    const cache = plainCacheOf(ctx);
    return strategy(ctx, cache, async (id) => {
      const value = nextItemValue(id);
      const conn = await ctx.writePool.getConnection();
      try {
        await conn.beginTransaction();
        const [rows] = await conn.query<RowDataPacket[]>('SELECT version FROM lab_item WHERE strategy = ? AND id = ? FOR UPDATE', [ctx.name, id]);
        await cache.set({ version: BigInt(String(rows[0]?.version ?? 0)) + 1n, value });
        if (ctx.diesHere()) {
          await conn.rollback();
          return;
        }
        const version = await updateItemIn(conn, ctx.name, value);
        await conn.commit();
        ctx.committed(id, version, value.name);
      } catch (err) {
        await conn.rollback().catch(() => {});
        throw err;
      } finally {
        conn.release();
      }
    });
  },
};

/**
 * Write-through without a lock: the cache layer 1. UPDATEs and reads the row back in one
 * transaction, commits; 2. SETs what the database holds. Readers fill on a miss.
 */
export const writeThrough: StrategyDefinition = {
  name: 'write-through',
  steps: 'the cache layer updates the database, reads the row back, commits, then SETs it',
  failureMode:
    'Writing back "what the database holds" does not order concurrent writers: the slower writer\'s SET of its read-back can land last, and readers\' fills race as in cache-aside. ' +
    'A crash or Redis error between the commit and the SET leaves the old entry.',
  async create(ctx) {
    const cache = plainCacheOf(ctx);
    return strategy(ctx, cache, async (id) => {
      const value = nextItemValue(id);
      const conn = await ctx.writePool.getConnection();
      let version: bigint;
      try {
        await conn.beginTransaction();
        version = await updateItemIn(conn, ctx.name, value);
        await conn.commit();
      } catch (err) {
        await conn.rollback().catch(() => {});
        throw err;
      } finally {
        conn.release();
      }
      ctx.committed(id, version, value.name);
      if (ctx.diesHere()) return;
      await cache.set(await loadItem(ctx.writePool, ctx.name, id));
    });
  },
};

/** Options of {@link writeThroughLocked}. */
export interface LockOptions {
  /** TTL of the per-key lock, ms (a holder slower than this loses it without knowing). */
  readonly lockTtlMs: number;
}

class LockBusy extends OutboxCacheError {}

/** SET NX PX lock; released with a compare-and-delete script. Waits up to `waitMs` for it. */
async function withKeyLock<T>(redis: Redis, key: string, ttlMs: number, waitMs: number, fn: () => Promise<T>): Promise<T> {
  const token = randomBytes(8).toString('hex');
  const deadline = performance.now() + waitMs;
  while ((await redis.set(key, token, 'PX', ttlMs, 'NX')) !== 'OK') {
    if (performance.now() > deadline) throw new LockBusy(`lock ${key} busy`, { code: 'LAB_LOCK_BUSY', retriable: true });
    await sleep(5);
  }
  try {
    return await fn();
  } finally {
    await redis.eval("if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0", 1, key, token).catch(() => {});
  }
}

/**
 * Write-through with a per-key lock (Redis SET NX PX, released only by its holder): writes
 * 1. take the lock; 2. UPDATE and commit; 3. SET the new value; 4. release. Readers GET; on a
 * miss they take the same lock, read the database and SET under it.
 */
export function writeThroughLocked(options: LockOptions): StrategyDefinition {
  return {
    name: 'write-through-lock',
    steps: `write-through with a per-key Redis lock (SET NX PX ${options.lockTtlMs} ms) around each write and each miss fill`,
    failureMode:
      'The lock serialises writers and fills, so the races are gone while Redis and the app stay up. ' +
      'It does not survive the faults: a crash or Redis error between the commit and the SET leaves the old entry, a Redis restart drops the locks, and every miss now waits for the writers of its key.',
    async create(ctx) {
      const cache = plainCacheOf(ctx);
      const lockKey = (id: number): string => `${cache.key(id)}:lock`;
      const waitMs = options.lockTtlMs * 2;
      return strategy(ctx, cache, async (id) => {
        await withKeyLock(ctx.redis, lockKey(id), options.lockTtlMs, waitMs, async () => {
          const value = nextItemValue(id);
          const version = await updateItem(ctx.writePool, ctx.name, value);
          ctx.committed(id, version, value.name);
          if (ctx.diesHere()) return;
          await cache.set({ version, value });
        });
      }, async (id) => {
        const cached = await cache.get(id);
        if (cached) return { hit: true, version: cached.version };
        return withKeyLock(ctx.redis, lockKey(id), options.lockTtlMs, waitMs, async () => {
          const loaded = await ctx.load(id);
          await cache.set(loaded);
          return { hit: false, version: loaded.version };
        });
      });
    },
  };
}
