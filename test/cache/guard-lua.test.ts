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
import { applyGuard } from '../../src/cache/guard-rule.js';
import { decodeStoredValue, encodeStoredValue } from '../../src/cache/stored-value.js';
import { GUARD_CASES, GUARD_INTERLEAVINGS } from './guard-cases.js';

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
      reply = await r.outboxCacheInvalidateEntry(key, String(op.version), TTL, op.keepBytes ? '1' : '0');
      break;
    case 'delete':
      reply = await r.outboxCacheDeleteEntry(key, String(op.version), TTL);
      break;
    case 'acquire': {
      const [kind] = await r.outboxCacheAcquireLeaseBuffer(key, op.token, TTL, '0');
      reply = kind.toString() === 'l' ? 1 : 0;
      break;
    }
    case 'fill': {
      const [state, data] = op.value === null ? (['A', ''] as const) : (['E', op.value] as const);
      reply = await r.outboxCacheFillEntry(key, String(op.version), state, TTL, data, op.token ?? '', TTL);
      break;
    }
    case 'release':
      reply = await r.outboxCacheReleaseLease(key, op.token, TTL);
      break;
    case 'flush': {
      // No single-key script: the flush's batch script with one key.
      const [code] = await r.outboxCacheTombstoneEntries(1, key, TTL);
      reply = code !== undefined && 'eal'.includes(code) ? 1 : 0;
      break;
    }
    case 'revoke-leases':
      // No single-key script: revocation is a plain DEL, and the batch form is tested below.
      reply = (await r.del(key)) >= 0 ? 1 : 0;
      break;
  }
  return reply === 1 ? 'applied' : 'stale';
}

/** The expected state as a pattern: `{now}` matches Redis's clock in ms. */
function expectState(actual: string | null, expected: string | null): void {
  if (expected === null || !expected.includes('{now}')) {
    expect(actual).toBe(expected);
    return;
  }
  const [head, tail] = expected.split('{now}') as [string, string];
  expect(actual?.startsWith(head)).toBe(true);
  expect(actual?.endsWith(tail)).toBe(true);
  const now = Number(actual?.slice(head.length, actual.length - tail.length));
  expect(Math.abs(now - Date.now())).toBeLessThan(60_000);
}

describe('guard rule (Lua single-key scripts) against the case table', () => {
  it.each(GUARD_CASES)('$name', async ({ before, op, outcome, after }) => {
    const key = freshKey();
    await setState(key, before);
    expect(await runScript(redis, key, op)).toBe(outcome);
    expectState(await getState(key), after);
  });
});

describe('guard rule (Lua single-key scripts) against the TypeScript rule, interleaving by interleaving', () => {
  it('ends every reader/sink/eviction interleaving in the same state and outcomes', async () => {
    const failures: string[] = [];
    await Promise.all(GUARD_INTERLEAVINGS.map(async ({ name, before, steps }) => {
      const key = freshKey();
      await setState(key, before);
      let model = decodeStoredValue(before === null ? null : Buffer.from(before, 'latin1'));
      for (const step of steps) {
        if (step.kind === 'evict') {
          await redis.del(key);
          model = undefined;
          continue;
        }
        const outcome = await runScript(redis, key, step);
        const expected = applyGuard(model, step);
        model = expected.next;
        if (outcome !== expected.outcome) failures.push(`${name}: ${step.kind} ${outcome}, TypeScript ${expected.outcome}`);
      }
      const actual = await getState(key);
      const wanted = model ? encodeStoredValue(model).toString('latin1') : null;
      if (actual !== wanted) failures.push(`${name}: ends ${actual}, TypeScript ${wanted}`);
    }));
    expect(failures).toEqual([]);
  });
});

describe('guard rule (Lua batch script) against the case table', () => {
  it.each([false, true])('applies every sink case of the table in one batch call (keepStaleBytes: %s)', async (keepStaleBytes) => {
    const sinkCases = GUARD_CASES.filter(
      (c) => ['upsert', 'delete', 'revoke-leases'].includes(c.op.kind) || (c.op.kind === 'invalidate' && (c.op.keepBytes === true) === keepStaleBytes),
    );
    expect(sinkCases.length).toBeGreaterThan(keepStaleBytes ? 35 : 40);
    const keys = sinkCases.map(() => freshKey());
    await Promise.all(sinkCases.map((c, i) => setState(keys[i] ?? '', c.before)));
    const actions = sinkCases.map((c, i) => ({ ...c.op, key: keys[i] }) as CacheAction);
    const writer = new RedisCacheWriter({ redis: client, entryTtlMs: TTL, ttlJitter: 0, keepStaleBytes });
    const outcomes = await writer.applyBatch(actions);
    expect(outcomes).toEqual(sinkCases.map((c) => c.outcome));
    const after = await Promise.all(keys.map(getState));
    sinkCases.forEach((c, i) => expectState(after[i] ?? null, c.after));
  });
});

describe('Lua scripts beyond the table', () => {
  it('tells the reader what it found: its lease, a hit, an entry below minVersion, another lease', async () => {
    const key = freshKey();
    const taken = await redis.outboxCacheAcquireLeaseBuffer(key, 'tok1', 5_000, '0');
    expect(taken.slice(0, 2).map(String)).toEqual(['l', 'L0:tok1']);
    expect(Math.abs(Number(String(taken[2])) - Date.now())).toBeLessThan(60_000);
    expect(await redis.pttl(key)).toBeLessThanOrEqual(5_000);
    expect((await redis.outboxCacheAcquireLeaseBuffer(key, 'tok2', 5_000, '0')).slice(0, 2).map(String)).toEqual(['w', 'L0:tok1']);
    expect(await redis.outboxCacheFillEntry(key, '3', 'E', TTL, 'data', 'tok1', TTL)).toBe(1);
    expect((await redis.outboxCacheAcquireLeaseBuffer(key, 'tok3', 5_000, '3')).slice(0, 2).map(String)).toEqual(['v', 'E3:data']);
    expect((await redis.outboxCacheAcquireLeaseBuffer(key, 'tok3', 5_000, '4')).slice(0, 2).map(String)).toEqual(['b', '']);
    expect(await getState(key)).toBe('E3:data');
  });

  it('refuses non-canonical versions in every script that takes one', async () => {
    const key = freshKey();
    await setState(key, 'T7:');
    for (const bad of ['07', '3.00', '1.5', '-1', '', '9223372036854775808', '99999999999999999999']) {
      await expect(redis.outboxCacheFillEntry(key, bad, 'E', TTL, 'x', 'tok', TTL)).rejects.toThrow(/non-canonical/);
      await expect(redis.outboxCacheUpsertEntry(key, bad, TTL, Buffer.from('x'))).rejects.toThrow(/non-canonical/);
      await expect(redis.outboxCacheInvalidateEntry(key, bad, TTL)).rejects.toThrow(/non-canonical/);
      await expect(redis.outboxCacheDeleteEntry(key, bad, TTL)).rejects.toThrow(/non-canonical/);
      await expect(redis.outboxCacheAcquireLeaseBuffer(key, 'tok', TTL, bad)).rejects.toThrow(/non-canonical/);
    }
    expect(await getState(key)).toBe('T7:');
  });

  it('gives a released lease the tombstone TTL and a fill its own TTL, never extending an entry', async () => {
    const key = freshKey();
    await setState(key, 'T4:');
    await redis.outboxCacheAcquireLeaseBuffer(key, 'tok', 5_000, '0');
    expect(await redis.outboxCacheReleaseLease(key, 'tok', 50_000)).toBe(1);
    expect(await redis.pttl(key)).toBeGreaterThan(45_000);
    await redis.outboxCacheAcquireLeaseBuffer(key, 'tok', 5_000, '0');
    expect(await redis.outboxCacheFillEntry(key, '4', 'E', 7_000, 'x', 'tok', TTL)).toBe(1);
    expect(await redis.pttl(key)).toBeLessThanOrEqual(7_000);
    expect(await redis.outboxCacheFillEntry(key, '4', 'E', TTL, 'x', 'tok', TTL)).toBe(0);
    expect(await redis.pttl(key)).toBeLessThanOrEqual(7_000);
  });

  it('refuses a fill over a missing key with -1 (lease expired, state evicted or lost)', async () => {
    const key = freshKey();
    await redis.outboxCacheAcquireLeaseBuffer(key, 'tok', 5_000, '0');
    await redis.del(key);
    expect(await redis.outboxCacheFillEntry(key, '2', 'E', TTL, 'x', 'tok', TTL)).toBe(-1);
    expect(await getState(key)).toBeNull();
  });

  it('raises WRONGTYPE from the single-key scripts on a key of another type, leaving it alone', async () => {
    const key = freshKey();
    await redis.rpush(key, 'x');
    await expect(redis.outboxCacheUpsertEntry(key, '1', TTL, Buffer.from('v'))).rejects.toThrow(/WRONGTYPE/);
    await expect(redis.outboxCacheInvalidateEntry(key, '1', TTL)).rejects.toThrow(/WRONGTYPE/);
    await expect(redis.outboxCacheFillEntry(key, '1', 'E', TTL, 'v', 'tok', TTL)).rejects.toThrow(/WRONGTYPE/);
    await expect(redis.outboxCacheAcquireLeaseBuffer(key, 'tok', TTL, '0')).rejects.toThrow(/WRONGTYPE/);
    await expect(redis.outboxCacheReleaseLease(key, 'tok', TTL)).rejects.toThrow(/WRONGTYPE/);
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
    await expect(redis.outboxCacheApplyActions(1, key, '4;60000;S05:')).rejects.toThrow(/malformed action 1/);
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
});
