/**
 * This project: 1. UPDATE and publish an INVALIDATE event through the outbox in the same
 * transaction, commit (nothing else: there is no second step to lose); 2. the embedded relay
 * tails the binlog and applies each event through the version guard (a tombstone at the event's
 * version, atomic per key, replacing any reader's lease); 3. readers use the guard v2 read path
 * (`createReadThrough`): a miss takes a lease before its database read, and the fill lands only
 * while that lease still stands, so a fill that a write overtook is refused.
 */
import { createReadThrough } from '../../cache/read-through.js';
import { RedisCacheWriter } from '../../cache/redis-cache-writer.js';
import { decodeStoredValue } from '../../cache/stored-value.js';
import { createApplyStep } from '../../sink/apply-step.js';
import { itemKey, nextItemValue, updateItemWithEvent, type ItemValue } from '../item-table.js';
import type { KeyState, StrategyDefinition } from '../strategy.js';
import { relayedAll, startRelayWorker } from './relay-worker.js';

/** The outbox table ours publishes to. */
export const OURS_TABLE = 'outbox';

/** Outbox + embedded relay + version guard. */
export const ours: StrategyDefinition = {
  name: 'ours',
  steps: 'update and publish an event through the outbox in one transaction; the relay tombstones the key at that version through the guard; guarded fills',
  failureMode:
    'Nothing after the commit can be lost: the event commits with the row and the relay resumes from its stored position. ' +
    'A stale read lasts until the relay applies the event (longer while the relay or Redis is down, which the 1 s checks show); ' +
    'a slow reader\'s fill is refused because the relay\'s tombstone replaced its lease. Not covered by the guard: a lagging replica read after its tombstone expired, or a Redis restored from an older snapshot (the auditor\'s job).',
  ours: true,
  async create(ctx) {
    const { codec } = ctx.events;
    const writer = new RedisCacheWriter({ redis: ctx.newRedis(), entryTtlMs: ctx.entryTtlMs });
    const step = createApplyStep({ decoder: codec, writer, mapping: { keyPrefix: ctx.keyPrefix } });
    const relay = await startRelayWorker(ctx, {
      label: 'relay', table: OURS_TABLE, relayName: 'lab-ours',
      apply: async (events) => {
        const report = await step(events);
        for (const { error } of report.poisoned) ctx.onBackgroundError(error);
        return report;
      },
    });
    const cache = createReadThrough<ItemValue>({
      redis: ctx.redis, codec: 'json', entryTtlMs: ctx.entryTtlMs,
      loader: (key) => ctx.load(Number(key.slice(key.lastIndexOf(':') + 1))),
    });
    return {
      async write(id) {
        const value = nextItemValue(id);
        ctx.committed(id, await updateItemWithEvent(ctx.writePool, ctx.name, value, ctx.events.schema, OURS_TABLE), value.name);
      },
      async read(id) {
        const result = await cache.read(itemKey(ctx.keyPrefix, id));
        return { hit: result.source === 'cache', version: result.version };
      },
      async peek(ids, redis) {
        const raw = ids.length ? await redis.mgetBuffer(...ids.map((id) => itemKey(ctx.keyPrefix, id))) : [];
        const out = new Map<number, KeyState>();
        ids.forEach((id, i) => {
          const stored = decodeStoredValue(raw[i]);
          out.set(id, stored ? { state: stored.state, version: stored.version } : { state: 'missing' });
        });
        return out;
      },
      crash: () => {},
      workers: [relay],
      settled: async (latest) => relayedAll(relay, latest),
      stop: () => relay.stop(),
    };
  },
};
