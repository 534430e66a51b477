import { afterAll, describe, expect, it } from 'vitest';
import type { CacheAction } from '../../src/cache/actions.js';
import { RedisCacheWriter } from '../../src/cache/redis-cache-writer.js';
import { decodeStoredValue } from '../../src/cache/stored-value.js';
import { ScriptError } from '../../src/errors.js';
import { createTestRedis } from '../helpers.js';

const { redis, prefix } = createTestRedis();
afterAll(() => redis.disconnect());

const up = (key: string, version: bigint, value = `v${version}`): CacheAction => ({
  kind: 'upsert', key: prefix + key, version, value: Buffer.from(value),
});
const inv = (key: string, version: bigint): CacheAction => ({ kind: 'invalidate', key: prefix + key, version });
const del = (key: string, version: bigint): CacheAction => ({ kind: 'delete', key: prefix + key, version });
const revoke = (key: string): CacheAction => ({ kind: 'revoke-leases', key: prefix + key });

async function stored(key: string): Promise<string | null> {
  const raw = await redis.getBuffer(prefix + key);
  return raw === null ? null : raw.toString('latin1');
}

describe('RedisCacheWriter', () => {
  it('applies a batch in order with one outcome per action, duplicates and older versions stale', async () => {
    const writer = new RedisCacheWriter({ redis });
    const outcomes = await writer.applyBatch([
      up('a', 2n), up('a', 1n), up('a', 2n), inv('a', 3n), del('b', 5n), up('b', 4n), up('c', 7n), revoke('d'),
    ]);
    expect(outcomes).toEqual(['applied', 'stale', 'stale', 'applied', 'applied', 'stale', 'applied', 'applied']);
    expect(await stored('a')).toBe('T3:');
    expect(await stored('b')).toBe('A5:');
    expect(await stored('c')).toBe('E7:v7');
    expect(await writer.applyBatch([])).toEqual([]);
  });

  it('keeps binary values with colons intact and versions up to 2^63-1', async () => {
    const writer = new RedisCacheWriter({ redis });
    const value = Buffer.from([0x3a, 0x00, 0xff, 0x45, 0x31, 0x3a]);
    const max = 2n ** 63n - 1n;
    await writer.applyBatch([{ kind: 'upsert', key: prefix + 'bin', version: max - 1n, value }]);
    expect(await writer.applyBatch([up('bin', max - 2n)])).toEqual(['stale']);
    const decoded = decodeStoredValue(await redis.getBuffer(prefix + 'bin'));
    expect(decoded).toEqual({ state: 'entry', version: max - 1n, data: value });
    expect(await writer.applyBatch([inv('bin', max)])).toEqual(['applied']);
  });

  it('sets TTLs: jittered entries, tombstones and known-absent entries their own', async () => {
    const writer = new RedisCacheWriter({
      redis, entryTtlMs: 100_000, ttlJitter: 0.5, negativeTtlMs: 40_000, tombstoneTtlMs: 20_000, random: () => 0.999,
    });
    await writer.applyBatch([up('t1', 1n), inv('t2', 1n), del('t3', 1n)]);
    const [entry, tomb, absent] = await Promise.all(['t1', 't2', 't3'].map((k) => redis.pttl(prefix + k)));
    expect(entry).toBeGreaterThan(45_000);
    expect(entry).toBeLessThanOrEqual(50_050);
    expect(tomb).toBeGreaterThan(15_000);
    expect(tomb).toBeLessThanOrEqual(20_000);
    expect(absent).toBeGreaterThan(35_000);
    expect(absent).toBeLessThanOrEqual(40_000);
  });

  it('spreads the TTLs of the entries of one call over the whole jitter range', async () => {
    const writer = new RedisCacheWriter({ redis, entryTtlMs: 100_000, ttlJitter: 0.5, tombstoneTtlMs: 1_000, negativeTtlMs: 1_000 });
    const keys = Array.from({ length: 40 }, (_v, i) => `spread${i}`);
    await writer.applyBatch(keys.map((k) => up(k, 1n)));
    const ttls = await Promise.all(keys.map((k) => redis.pttl(prefix + k)));
    for (const ttl of ttls) {
      expect(ttl).toBeGreaterThan(49_000);
      expect(ttl).toBeLessThanOrEqual(100_000);
    }
    // 40 evenly spread draws over a 50 s range: the extremes lie near both ends.
    expect(Math.max(...ttls) - Math.min(...ttls)).toBeGreaterThan(40_000);
  });

  it('splits large batches into several calls and keeps the per-action outcomes aligned', async () => {
    const writer = new RedisCacheWriter({ redis, maxKeysPerCall: 7 });
    const actions = Array.from({ length: 50 }, (_v, i) => up(`chunk${i % 20}`, BigInt(50 - i)));
    const outcomes = await writer.applyBatch(actions);
    expect(outcomes).toEqual(actions.map((_a, i) => (i < 20 ? 'applied' : 'stale')));
    expect(await stored('chunk3')).toBe('E47:v47');
  });

  it('refuses versions outside 1 .. 2^63-1 before touching Redis', async () => {
    const writer = new RedisCacheWriter({ redis });
    await expect(writer.applyBatch([up('x0', 1n), up('x1', 0n)])).rejects.toMatchObject({ code: 'CACHE_VERSION_INVALID' });
    await expect(writer.applyBatch([up('x0', 1n), up('x2', 2n ** 63n)])).rejects.toMatchObject({ code: 'CACHE_VERSION_INVALID' });
    expect(await stored('x0')).toBeNull();
  });

  it('reports keys holding another Redis type without blocking the rest of the batch', async () => {
    const writer = new RedisCacheWriter({ redis });
    await redis.hset(prefix + 'hash', 'f', 'v');
    const error = await writer.applyBatch([up('before', 1n), up('hash', 1n), up('after', 1n)]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ScriptError);
    expect(error).toMatchObject({ code: 'CACHE_KEY_WRONG_TYPE', retriable: false });
    expect((error as Error).message).toContain(`'${prefix}hash'`);
    expect(await stored('before')).toBe('E1:v1');
    expect(await stored('after')).toBe('E1:v1');
    expect(await redis.hget(prefix + 'hash', 'f')).toBe('v');
  });

  it('refuses a client that would queue commands forever while Redis is down', async () => {
    const { Redis } = await import('ioredis');
    const forever = new Redis({ lazyConnect: true, maxRetriesPerRequest: null });
    expect(() => new RedisCacheWriter({ redis: forever })).toThrow(/maxRetriesPerRequest/);
    const bounded = new Redis({ lazyConnect: true, maxRetriesPerRequest: null, enableOfflineQueue: false });
    expect(() => new RedisCacheWriter({ redis: bounded })).not.toThrow();
  });
});
