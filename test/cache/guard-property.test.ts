/**
 * Property: for random interleavings of commits, duplicated and reordered sink deliveries (single
 * and batched) and reader fills, the stored version never decreases, never carries another
 * version's data, and ends at the state implied by the highest version. Checked on the
 * TypeScript rule (many runs, no I/O) and on the Lua scripts on the real Redis, with the two
 * compared step by step.
 */
import fc from 'fast-check';
import { afterAll, describe, it } from 'vitest';
import { expect } from 'vitest';
import type { CacheAction } from '../../src/cache/actions.js';
import { applyGuard, type GuardOp } from '../../src/cache/guard-rule.js';
import { defineGuardCommands } from '../../src/cache/guard-scripts.js';
import { RedisCacheWriter } from '../../src/cache/redis-cache-writer.js';
import { decodeStoredValue, type StoredValue } from '../../src/cache/stored-value.js';
import { createTestRedis } from '../helpers.js';
import { runSchedule, scheduleArb, type GuardBackend } from './guard-model.js';

/** The TypeScript rule as a backend: state in memory. */
function modelBackend(): GuardBackend & { state: StoredValue | undefined } {
  const backend = {
    state: undefined as StoredValue | undefined,
    async apply(actions: CacheAction[]) {
      for (const action of actions) backend.state = applyGuard(backend.state, action as GuardOp).next;
    },
    async fill(version: bigint, value: Buffer | null) {
      backend.state = applyGuard(backend.state, { kind: 'fill', version, value }).next;
    },
    async stored() {
      return backend.state;
    },
  };
  return backend;
}

describe('guard property', () => {
  it('holds for the TypeScript rule', async () => {
    await fc.assert(fc.asyncProperty(scheduleArb, (schedule) => runSchedule(modelBackend(), 'k', schedule)), {
      numRuns: 1_000,
    });
  });

  const { redis: client, prefix } = createTestRedis();
  const redis = defineGuardCommands(client);
  const writer = new RedisCacheWriter({ redis: client });
  afterAll(() => client.disconnect());
  let run = 0;

  it('holds for the Lua scripts on Redis, which agree with the TypeScript rule at every step', async () => {
    await fc.assert(
      fc.asyncProperty(scheduleArb, async (schedule) => {
        const key = `${prefix}prop:${run++}`;
        const model = modelBackend();
        const backend: GuardBackend = {
          async apply(actions) {
            await writer.applyBatch(actions);
            await model.apply(actions);
          },
          async fill(version, value) {
            const [startedAt] = await redis.outboxCacheBeginFillBuffer(key);
            const [state, data] = value === null ? ['A', ''] : ['E', value];
            await redis.outboxCacheFillEntry(key, String(version), state, 60_000, data, startedAt, 60_000);
            await model.fill(version, value);
          },
          async stored() {
            const stored = decodeStoredValue(await client.getBuffer(key));
            expect(stored).toEqual(model.state);
            return stored;
          },
        };
        await runSchedule(backend, key, schedule);
      }),
      { numRuns: 150 },
    );
  });
});
