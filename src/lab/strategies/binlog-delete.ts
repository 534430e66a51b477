/**
 * Binlog-driven delete without a guard (the Canal style): 1. UPDATE and commit (the row change
 * reaches the binlog); 2. a binlog tail DELs the key of every changed row, retrying until Redis
 * takes it; no version travels with the delete. Readers GET; on a miss read the database and SET.
 *
 * The tail is the project's own binlog relay, over an outbox table of this strategy's own that
 * the write fills in the same transaction: the binlog carries the change at the same commit
 * position as the row itself, which is what a row tail such as Canal reads.
 */
import { OutboxCacheError } from '../../errors.js';
import { nextItemValue, updateItemWithEvent } from '../item-table.js';
import type { StrategyDefinition } from '../strategy.js';
import { plainCacheOf } from './plain-cache.js';
import { relayedAll, startRelayWorker } from './relay-worker.js';

/** Outbox table of the binlog-delete strategy. */
export const BINLOG_DELETE_TABLE = 'lab_binlog_outbox';

/** The binlog-delete strategy. */
export const binlogDelete: StrategyDefinition = {
  name: 'binlog-delete',
  steps: 'update the database; a binlog tail DELs the key of each changed row (no version), retrying until it succeeds',
  failureMode:
    'Nothing the app does can lose the delete, and a crash of the tail only delays it. But a DEL carries no version: ' +
    'a reader that read the old row before the commit and fills after the tail\'s DEL caches the old row for good, exactly as in cache-aside.',
  async create(ctx) {
    const cache = plainCacheOf(ctx);
    const { schema } = ctx.events;
    const tail = await startRelayWorker(ctx, {
      label: 'binlog tail', table: BINLOG_DELETE_TABLE, relayName: 'lab-binlog-delete',
      apply: async (events) => {
        try {
          if (events.length > 0) await ctx.redis.del(...events.map((e) => cache.key(Number(e.aggregateId))));
        } catch (err) {
          throw new OutboxCacheError('binlog tail could not delete keys', { code: 'LAB_REDIS_UNAVAILABLE', retriable: true, cause: err });
        }
      },
    });
    return {
      async write(id) {
        const value = nextItemValue(id);
        ctx.committed(id, await updateItemWithEvent(ctx.writePool, ctx.name, value, schema, BINLOG_DELETE_TABLE), value.name);
      },
      read: (id) => cache.readThrough(ctx, id),
      peek: (ids, redis) => cache.peek(ids, redis),
      crash: () => {},
      workers: [tail],
      settled: async (latest) => relayedAll(tail, latest),
      stop: () => tail.stop(),
    };
  },
};
