/**
 * This project: 1. UPDATE and publish an INVALIDATE event through the outbox in the same
 * transaction, commit (nothing else: there is no second step to lose); 2. the embedded relay
 * tails the binlog and applies each event through the version guard (a tombstone at the event's
 * version, atomic per key, replacing any reader's lease); 3. readers use the guard v2 read path
 * (`createReadThrough`): a miss takes a lease before its database read, and the fill lands only
 * while that lease still stands, so a fill that a write overtook is refused. `ours+l1` adds the
 * in-process L1 tier (DESIGN.md §4a) in front of Redis: entries carry versions and are dropped by
 * the invalidations the relay's apply script publishes in the same call that changes Redis.
 */
import type { L1Options } from '../../cache/l1/l1-store.js';
import { createReadThrough } from '../../cache/read-through.js';
import { RedisCacheWriter } from '../../cache/redis-cache-writer.js';
import { decodeStoredValue } from '../../cache/stored-value.js';
import { createApplyStep } from '../../sink/apply-step.js';
import { itemKey, nextItemValue, updateItemWithEvent, type ItemValue } from '../item-table.js';
import type { KeyState, StrategyDefinition } from '../strategy.js';
import { relayedAll, startRelayWorker } from './relay-worker.js';

/** The outbox table ours publishes to. */
export const OURS_TABLE = 'outbox';
/** The outbox table of ours with the L1 tier (its own relay, so each row's events stay its own). */
export const OURS_L1_TABLE = 'outbox_l1';

/** Outbox + embedded relay + version guard. */
export const ours: StrategyDefinition = oursStrategy({ name: 'ours', table: OURS_TABLE });

/** The same, with the in-process L1 tier on the read path (2 s TTL). */
export const oursL1: StrategyDefinition = oursStrategy({ name: 'ours+l1', table: OURS_L1_TABLE, l1: { ttlMs: 2_000 } });

function oursStrategy(options: { readonly name: string; readonly table: string; readonly l1?: L1Options }): StrategyDefinition {
  const { name, table, l1 } = options;
  return {
  name,
  steps: 'update and publish an event through the outbox in one transaction; the relay tombstones the key at that version through the guard; guarded fills' +
    (l1 ? '; an in-process L1 in front of Redis, filled only from guarded reads and dropped by the invalidations the apply script publishes' : ''),
  failureMode:
    'Nothing after the commit can be lost: the event commits with the row and the relay resumes from its stored position. ' +
    'A stale read lasts until the relay applies the event (longer while the relay or Redis is down, which the 1 s checks show); ' +
    'a slow reader\'s fill is refused because the relay\'s tombstone replaced its lease. Not covered by the guard: a lagging replica read after its tombstone expired, or a Redis restored from an older snapshot (the auditor\'s job).' +
    (l1 ? ' The L1 adds at most the invalidation\'s delivery time, and its TTL bounds a lost message; a Redis restart clears it.' : ''),
  ours: true,
  async create(ctx) {
    const { codec } = ctx.events;
    const writer = new RedisCacheWriter({ redis: ctx.newRedis(), entryTtlMs: ctx.entryTtlMs });
    const step = createApplyStep({ decoder: codec, writer, mapping: { keyPrefix: ctx.keyPrefix } });
    const relay = await startRelayWorker(ctx, {
      label: 'relay', table, relayName: `lab-${name.replace(/[^a-z0-9]+/g, '-')}`,
      apply: async (events) => {
        const report = await step(events);
        for (const { error } of report.poisoned) ctx.onBackgroundError(error);
        return report;
      },
    });
    const cache = createReadThrough<ItemValue>({
      redis: ctx.redis, codec: 'json', entryTtlMs: ctx.entryTtlMs, ...(l1 ? { l1 } : {}),
      loader: (key) => ctx.load(Number(key.slice(key.lastIndexOf(':') + 1))),
    });
    return {
      async write(id) {
        const value = nextItemValue(id);
        ctx.committed(id, await updateItemWithEvent(ctx.writePool, ctx.name, value, ctx.events.schema, table), value.name);
      },
      async read(id) {
        const result = await cache.read(itemKey(ctx.keyPrefix, id));
        return { hit: result.source === 'cache' || result.source === 'l1', version: result.version };
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
      stop: async () => {
        await cache.close();
        await relay.stop();
      },
    };
  },
  };
}
