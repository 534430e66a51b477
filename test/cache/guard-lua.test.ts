/**
 * The case table against the Lua scripts on the real Redis: every rule through the single-key
 * script of its op, and every sink rule again through one batch call.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { CacheAction } from '../../src/cache/actions.js';
import type { GuardOp } from '../../src/cache/guard-rule.js';
import { defineGuardCommands, type GuardCommands, type GuardRedis } from '../../src/cache/guard-scripts.js';
import { RedisCacheWriter } from '../../src/cache/redis-cache-writer.js';
import { createTestRedis } from '../helpers.js';
import { GUARD_CASES } from './guard-cases.js';

const { redis: client, prefix } = createTestRedis();
const redis = defineGuardCommands(client);
afterAll(() => client.disconnect());

const TTL = 60_000;
let counter = 0;
const freshKey = () => `${prefix}case:${counter++}`;

async function setState(key: string, raw: string | null): Promise<void> {
  if (raw === null) await redis.del(key);
  else await redis.set(key, Buffer.from(raw, 'latin1'), 'PX', TTL);
}

async function getState(key: string): Promise<string | null> {
  const raw = await client.getBuffer(key);
  return raw === null ? null : raw.toString('latin1');
}

/** Runs one op through its single-key script; returns the script's outcome. */
async function runScript(r: GuardRedis & GuardCommands, key: string, op: GuardOp): Promise<'applied' | 'stale'> {
  let reply: number;
  switch (op.kind) {
    case 'upsert':
      reply = await r.outboxCacheUpsertEntry(key, String(op.version), TTL, op.value);
      break;
    case 'invalidate':
      reply = await r.outboxCacheInvalidateEntry(key, String(op.version), TTL);
      break;
    case 'delete':
      reply = await r.outboxCacheDeleteEntry(key, String(op.version), TTL);
      break;
    case 'fill': {
      const [startedAt] = await r.outboxCacheBeginFillBuffer(key);
      const [state, data] = op.value === null ? ['A', ''] : ['E', op.value];
      reply = await r.outboxCacheFillEntry(key, String(op.version), state, TTL, data, startedAt, TTL);
      break;
    }
    case 'fill-lease': {
      const [state, data] = op.value === null ? ['A', ''] : ['E', op.value];
      reply = await r.outboxCacheFillLease(key, op.token, state, TTL, data);
      break;
    }
    case 'revoke-leases':
      // No single-key script: revocation is a plain DEL, and the batch form is tested below.
      reply = (await r.del(key)) >= 0 ? 1 : 0;
      break;
  }
  return reply === 1 ? 'applied' : 'stale';
}

describe('guard rule (Lua single-key scripts) against the case table', () => {
  it.each(GUARD_CASES)('$name', async ({ before, op, outcome, after }) => {
    const key = freshKey();
    await setState(key, before);
    expect(await runScript(redis, key, op)).toBe(outcome);
    expect(await getState(key)).toBe(after);
  });
});

describe('guard rule (Lua batch script) against the case table', () => {
  it('applies every sink case of the table in one batch call', async () => {
    const sinkCases = GUARD_CASES.filter((c) => ['upsert', 'invalidate', 'delete', 'revoke-leases'].includes(c.op.kind));
    expect(sinkCases.length).toBeGreaterThan(30);
    const keys = sinkCases.map(() => freshKey());
    await Promise.all(sinkCases.map((c, i) => setState(keys[i] ?? '', c.before)));
    const actions = sinkCases.map((c, i) => ({ ...c.op, key: keys[i] }) as CacheAction);
    const outcomes = await new RedisCacheWriter({ redis: client, entryTtlMs: TTL, ttlJitter: 0 }).applyBatch(actions);
    expect(outcomes).toEqual(sinkCases.map((c) => c.outcome));
    const after = await Promise.all(keys.map(getState));
    expect(after).toEqual(sinkCases.map((c) => c.after));
  });
});

describe('Lua scripts beyond the table', () => {
  it('refuses a fill whose database read began longer ago than the maximum read age', async () => {
    const key = freshKey();
    const [now] = await redis.outboxCacheBeginFillBuffer(key);
    expect(await redis.outboxCacheFillEntry(key, '3', 'E', TTL, 'x', now - 5_001, 5_000)).toBe(-1);
    expect(await getState(key)).toBeNull();
    expect(await redis.outboxCacheFillEntry(key, '3', 'E', TTL, 'x', now, 5_000)).toBe(1);
    expect(await getState(key)).toBe('E3:x');
  });

  it('hands out one shared lease on a miss, returns entries, and no lease over a tombstone', async () => {
    const key = freshKey();
    const first = await redis.outboxCacheAcquireLeaseBuffer(key, 'tok1', TTL);
    const second = await redis.outboxCacheAcquireLeaseBuffer(key, 'tok2', TTL);
    expect(first.map(String)).toEqual(['l', 'tok1']);
    expect(second.map(String)).toEqual(['l', 'tok1']);
    expect(await redis.pttl(key)).toBeLessThanOrEqual(TTL);
    await redis.outboxCacheFillLease(key, 'tok1', 'E', TTL, 'data');
    expect((await redis.outboxCacheAcquireLeaseBuffer(key, 'tok3', TTL)).map(String)).toEqual(['v', 'E0:data']);
    await setState(key, 'T4:');
    expect((await redis.outboxCacheAcquireLeaseBuffer(key, 'tok4', TTL)).map(String)).toEqual(['n']);
    expect(await getState(key)).toBe('T4:');
  });

  it('raises WRONGTYPE from the single-key scripts on a key of another type, leaving it alone', async () => {
    const key = freshKey();
    await redis.rpush(key, 'x');
    await expect(redis.outboxCacheUpsertEntry(key, '1', TTL, Buffer.from('v'))).rejects.toThrow(/WRONGTYPE/);
    await expect(redis.outboxCacheInvalidateEntry(key, '1', TTL)).rejects.toThrow(/WRONGTYPE/);
    await expect(redis.outboxCacheFillEntry(key, '1', 'E', TTL, 'v', Date.now(), TTL)).rejects.toThrow(/WRONGTYPE/);
    expect(await redis.lrange(key, 0, -1)).toEqual(['x']);
  });

  it('refuses a malformed packed batch instead of guessing', async () => {
    const key = freshKey();
    await expect(redis.outboxCacheApplyActions(1, key, '7;60000;E5:ab')).rejects.toThrow(/malformed action 1/);
    await expect(redis.outboxCacheApplyActions(1, key, '3;60000;T4:3;60000;T5:')).rejects.toThrow(/more actions/);
    expect(await getState(key)).toBe('T4:');
    await redis.del(key);
    await expect(redis.outboxCacheApplyActions(1, key, '3;60000;X5:')).rejects.toThrow(/malformed action 1/);
    await expect(redis.outboxCacheApplyActions(1, key, '4;60000;T05:')).rejects.toThrow(/malformed action 1/);
    await expect(redis.outboxCacheApplyActions(1, key, '3;0;T5:')).rejects.toThrow(/malformed action 1/);
    await expect(redis.outboxCacheApplyActions(1, key, '3;060000;T5:')).rejects.toThrow(/malformed action 1/);
    await expect(redis.outboxCacheApplyActions(1, key, '3;T5:')).rejects.toThrow(/malformed action 1/);
    expect(await getState(key)).toBeNull();
    await expect(redis.outboxCacheApplyActions(2, key, key, '3;60000;T5:')).rejects.toThrow(/malformed action 2/);
    expect(await getState(key)).toBe('T5:');
    const other = freshKey();
    expect(await redis.outboxCacheApplyActions(1, other, '6;60000;E5:a:b')).toBe('1');
    expect(await getState(other)).toBe('E5:a:b');
    expect(await redis.pttl(other)).toBeLessThanOrEqual(60_000);
    expect(await redis.pttl(other)).toBeGreaterThan(50_000);
  });

  it('gives the fill its TTL and never extends an existing entry', async () => {
    const key = freshKey();
    const [now] = await redis.outboxCacheBeginFillBuffer(key);
    await redis.outboxCacheFillEntry(key, '2', 'E', 5_000, 'x', now, TTL);
    expect(await redis.pttl(key)).toBeLessThanOrEqual(5_000);
    expect(await redis.outboxCacheFillEntry(key, '2', 'E', TTL, 'x', now, TTL)).toBe(0);
    expect(await redis.pttl(key)).toBeLessThanOrEqual(5_000);
  });
});
