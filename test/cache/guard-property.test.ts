/**
 * Property: for random interleavings of commits, duplicated and reordered sink deliveries, readers
 * taking leases, filling and giving leases back, and evictions at any point, the guard never
 * stores a version's state with another version's data, a fill never goes below what the sink
 * applied, and the key ends at the state implied by the highest version (see guard-model.ts).
 * Checked on the TypeScript rule (many runs, no I/O) and on the Lua scripts on the real Redis,
 * with the two compared step by step.
 */
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import type { CacheAction } from '../../src/cache/actions.js';
import { applyGuard, type GuardOp } from '../../src/cache/guard-rule.js';
import { defineGuardCommands } from '../../src/cache/guard-scripts.js';
import { RedisCacheWriter } from '../../src/cache/redis-cache-writer.js';
import { decodeStoredValue, type StoredValue } from '../../src/cache/stored-value.js';
import { createTestRedis } from '../helpers.js';
import { runSchedule, scheduleArb, type GuardBackend } from './guard-model.js';

const TTL = 60_000;

/** The TypeScript rule as a backend: state in memory. */
function modelBackend(keepBytes: boolean): GuardBackend & { state: StoredValue | undefined } {
  const run = (op: GuardOp): 'applied' | 'stale' => {
    const result = applyGuard(backend.state, op, 1_000);
    backend.state = result.next;
    return result.outcome;
  };
  const backend = {
    state: undefined as StoredValue | undefined,
    async apply(actions: CacheAction[]) {
      return actions.map((a) => run(a.kind === 'invalidate' ? { ...a, keepBytes } : (a as GuardOp)));
    },
    async acquire(token: string) {
      run({ kind: 'acquire', token });
    },
    async fill(version: bigint, value: Buffer | null, token: string) {
      return run({ kind: 'fill', version, value, token });
    },
    async release(token: string) {
      run({ kind: 'release', token });
    },
    async evict() {
      backend.state = undefined;
    },
    async stored() {
      return backend.state;
    },
  };
  return backend;
}

/** Kept bytes carry Redis's clock in Lua and a fixed clock in the model: compare without it. */
function withoutClock(value: StoredValue | undefined): StoredValue | undefined {
  return value?.stale ? { ...value, stale: { ...value.stale, invalidatedAtMs: 0 } } : value;
}

describe('guard property', () => {
  it('holds for the TypeScript rule', async () => {
    await fc.assert(fc.asyncProperty(scheduleArb, (schedule) => runSchedule(modelBackend(schedule.keepBytes), 'k', schedule)), {
      numRuns: 2_000,
    });
  });

  const { redis: client, prefix } = createTestRedis();
  const redis = defineGuardCommands(client);
  const writers = [false, true].map((keepStaleBytes) => new RedisCacheWriter({ redis: client, keepStaleBytes }));
  afterAll(() => client.disconnect());
  let run = 0;

  it('holds for the Lua scripts on Redis, which agree with the TypeScript rule at every step', async () => {
    await fc.assert(
      fc.asyncProperty(scheduleArb, async (schedule) => {
        const key = `${prefix}prop:${run++}`;
        const model = modelBackend(schedule.keepBytes);
        const writer = writers[schedule.keepBytes ? 1 : 0] as RedisCacheWriter;
        const backend: GuardBackend = {
          async apply(actions) {
            const outcomes = await writer.applyBatch(actions);
            expect(outcomes).toEqual(await model.apply(actions));
            return outcomes;
          },
          async acquire(token) {
            await redis.outboxCacheAcquireLeaseBuffer(key, token, TTL, '0');
            await model.acquire(token);
          },
          async fill(version, value, token) {
            const [state, data] = value === null ? (['A', ''] as const) : (['E', value] as const);
            const reply = await redis.outboxCacheFillEntry(key, String(version), state, TTL, data, token, TTL);
            const outcome = reply === 1 ? 'applied' : 'stale';
            expect(outcome).toBe(await model.fill(version, value, token));
            return outcome;
          },
          async release(token) {
            await redis.outboxCacheReleaseLease(key, token, TTL);
            await model.release(token);
          },
          async evict() {
            await client.del(key);
            await model.evict();
          },
          async stored() {
            const stored = decodeStoredValue(await client.getBuffer(key));
            expect(withoutClock(stored)).toEqual(withoutClock(model.state));
            return stored;
          },
        };
        await runSchedule(backend, key, schedule);
      }),
      { numRuns: 200 },
    );
  });
});
