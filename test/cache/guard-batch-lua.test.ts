/**
 * The batch scripts of the day-2 operations (acquireLeases-n, fillEntries-n, tombstoneEntries-n)
 * against the shared case table on the real Redis: every acquire, fill and flush case, many keys
 * per call, so the batch forms follow exactly the rule of the single-key scripts.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { GuardOp } from '../../src/cache/guard-rule.js';
import { defineGuardCommands } from '../../src/cache/guard-scripts.js';
import { createTestRedis } from '../helpers.js';
import { GUARD_CASES, type GuardCase } from './guard-cases.js';

const { redis: client, prefix } = createTestRedis();
const redis = defineGuardCommands(client);
afterAll(() => client.disconnect());

const TTL = 60_000;
let counter = 0;

async function prepare(cases: readonly GuardCase[]): Promise<string[]> {
  const keys = cases.map(() => `${prefix}batch:${counter++}`);
  await Promise.all(cases.map((c, i) => (c.before === null ? client.del(keys[i]!) : client.set(keys[i]!, Buffer.from(c.before, 'latin1'), 'PX', TTL))));
  return keys;
}

async function states(keys: readonly string[]): Promise<(string | null)[]> {
  return (await Promise.all(keys.map((k) => client.getBuffer(k)))).map((b) => (b === null ? null : b.toString('latin1')));
}

/** Cases of one op kind, grouped by the token they use (one batch call per token). */
function byToken(kind: GuardOp['kind']): Map<string, GuardCase[]> {
  const groups = new Map<string, GuardCase[]>();
  for (const c of GUARD_CASES.filter((x) => x.op.kind === kind)) {
    const token = 'token' in c.op ? (c.op.token ?? '') : '';
    groups.set(token, [...(groups.get(token) ?? []), c]);
  }
  return groups;
}

describe('batch scripts against the case table', () => {
  it('acquireLeases-n takes exactly the leases acquireLease-1 would', async () => {
    let count = 0;
    for (const [token, cases] of byToken('acquire')) {
      const keys = await prepare(cases);
      const reply = await redis.outboxCacheAcquireLeases(keys.length, ...keys, token, TTL);
      expect([...reply].map((c) => (c === 'l' ? 'applied' : 'stale'))).toEqual(cases.map((c) => c.outcome));
      expect(await states(keys)).toEqual(cases.map((c) => c.after));
      count += cases.length;
    }
    expect(count).toBeGreaterThan(5);
  });

  it('fillEntries-n fills exactly what fillEntry-1 would', async () => {
    let count = 0;
    for (const [token, cases] of byToken('fill')) {
      const keys = await prepare(cases);
      const args = cases.flatMap((c) => {
        const op = c.op as Extract<GuardOp, { kind: 'fill' }>;
        return [String(op.version), op.value === null ? 'A' : 'E', TTL, op.value ?? ''];
      });
      const reply = await redis.outboxCacheFillEntries(keys.length, ...keys, token, TTL, ...args);
      expect([...reply].map((c) => (c === '1' ? 'applied' : 'stale'))).toEqual(cases.map((c) => c.outcome));
      expect(await states(keys)).toEqual(cases.map((c) => c.after));
      count += cases.length;
    }
    expect(count).toBeGreaterThan(20);
  });

  it('tombstoneEntries-n flushes every case in one call', async () => {
    const cases = GUARD_CASES.filter((c) => c.op.kind === 'flush');
    const keys = await prepare(cases);
    const reply = await redis.outboxCacheTombstoneEntries(keys.length, ...keys, TTL);
    expect([...reply].map((c) => ('eal'.includes(c) ? 'applied' : 'stale'))).toEqual(cases.map((c) => c.outcome));
    expect(await states(keys)).toEqual(cases.map((c) => c.after));
    expect(reply).toContain('f');
    expect(reply).toContain('m');
  });

  it('report keys of another type without touching them, and refuse malformed fills', async () => {
    const key = `${prefix}batch:hash`;
    await client.hset(key, 'a', '1');
    expect(await redis.outboxCacheAcquireLeases(1, key, 'tok', TTL)).toBe('x');
    expect(await redis.outboxCacheFillEntries(1, key, 'tok', TTL, '5', 'E', TTL, 'x')).toBe('x');
    expect(await redis.outboxCacheTombstoneEntries(1, key, TTL)).toBe('x');
    expect(await client.type(key)).toBe('hash');
    await expect(redis.outboxCacheFillEntries(1, key, 'tok', TTL, '05', 'E', TTL, 'x')).rejects.toThrow(/non-canonical/);
    await expect(redis.outboxCacheFillEntries(1, key, 'tok', TTL, '5', 'E', TTL)).rejects.toThrow(/4 arguments per key/);
  });
});
