/**
 * A read path that cannot be misused into stale data: loader results are checked before anything
 * reaches Redis (a bad version is a loader error naming the loader, never "Redis unavailable"),
 * values the codec cannot encode are returned but not cached, a hit and a miss return the same
 * shape, and bad options are refused up front. Real Redis.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { createReadThrough, type Loaded } from '../../src/cache/read-through.js';
import { RedisCacheWriter } from '../../src/cache/redis-cache-writer.js';
import type { OutboxCacheError } from '../../src/errors.js';
import { createTestRedis } from '../helpers.js';

const { redis, prefix } = createTestRedis();
const writer = new RedisCacheWriter({ redis });
afterAll(() => redis.disconnect());
let n = 0;
const freshKey = () => `${prefix}h:${n++}`;

async function stored(key: string): Promise<string | null> {
  return (await redis.getBuffer(key))?.toString('latin1') ?? null;
}

/** A read path whose loader returns `result` as is (bypassing the types, as JavaScript callers can). */
function returning(result: unknown, onFillError?: (err: OutboxCacheError) => void) {
  return createReadThrough<unknown>({
    redis, codec: 'json', onFillError,
    loader: async function usersLoader() {
      return result as Loaded<unknown>;
    },
  });
}

describe('loader results are checked before anything is sent', () => {
  it.each([
    ['07', { version: '07', value: 'x' }],
    ['3.00', { version: '3.00', value: 'x' }],
    ['1.5', { version: 1.5, value: 'x' }],
    ['negative', { version: -1n, value: 'x' }],
    ['2^63', { version: 2n ** 63n, value: 'x' }],
    ['an unsafe number', { version: 2 ** 60, value: 'x' }],
    ['missing', { value: 'x' }],
    ['undefined result', undefined],
    ['undefined value', { version: 3n, value: undefined }],
    ['a string result', 'x'],
  ])('version %s is a loader error naming the loader; the key is unchanged', async (_name, result) => {
    const key = freshKey();
    await writer.applyBatch([{ kind: 'invalidate', key, version: 7n }]);
    const error = await returning(result).read(key).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'READ_LOADER_INVALID', retriable: false, message: expect.stringContaining("loader 'usersLoader'") });
    expect((error as Error).message).not.toMatch(/Redis unavailable/);
    // The lease taken for the load went back to the tombstone.
    expect(await stored(key)).toBe('T7:');
  });

  it('the reproduced misuse: T7 can no longer become E07, so a later v5 fill stays refused', async () => {
    const key = freshKey();
    await writer.applyBatch([{ kind: 'invalidate', key, version: 7n }]);
    await expect(returning({ version: '07', value: 'bad' }).read(key)).rejects.toMatchObject({ code: 'READ_LOADER_INVALID' });
    expect(await returning({ version: 5n, value: 'older' }).read(key)).toMatchObject({ value: 'older', fill: 'refused' });
    expect(await stored(key)).toBe('T7:');
  });

  it('accepts a safe integer or canonical decimal text as a version', async () => {
    expect(await returning({ version: 7, value: 'n' }).read(freshKey())).toMatchObject({ version: 7n, fill: 'filled' });
    expect(await returning({ version: '9223372036854775807', value: 's' }).read(freshKey())).toMatchObject({ version: 2n ** 63n - 1n, fill: 'filled' });
    expect(await returning({ absent: true, version: '4' }).read(freshKey())).toMatchObject({ value: undefined, version: 4n, fill: 'filled' });
  });
});

describe('values the codec cannot encode', () => {
  it.each([
    ['a BigInt', { id: 1n }],
    ['a cycle', (() => { const o: Record<string, unknown> = {}; o.self = o; return o; })()],
  ])('%s: returns the loaded value, reports the fill error, caches nothing', async (_name, value) => {
    const key = freshKey();
    const errors: OutboxCacheError[] = [];
    const result = await returning({ version: 2n, value }, (e) => errors.push(e)).read(key);
    expect(result).toEqual({ value, version: 2n, source: 'database', fill: 'failed' });
    expect(errors.map((e) => e.code)).toEqual(['READ_VALUE_UNENCODABLE']);
    expect(await stored(key)).toBeNull();
  });
});

describe('a hit and a miss return the same shape', () => {
  it('returns the codec round trip on a miss (a Date is its JSON text both times)', async () => {
    const key = freshKey();
    const at = new Date('2026-01-02T03:04:05.000Z');
    const cache = returning({ version: 1n, value: { at, gone: undefined, n: 1 } });
    const miss = await cache.read(key);
    const hit = await cache.read(key);
    expect(miss).toEqual({ value: { at: '2026-01-02T03:04:05.000Z', n: 1 }, version: 1n, source: 'database', fill: 'filled' });
    expect(hit).toEqual({ ...miss, source: 'cache', fill: undefined });
    expect(Object.keys(miss.value as object)).toEqual(Object.keys(hit.value as object));
  });
});

describe('bad options are refused up front', () => {
  it('refuses an unknown codec name at construction', () => {
    expect(() => createReadThrough({ redis, codec: 'msgpack' as 'json', loader: async () => null })).toThrow(/codec: must be 'json' or 'bytes'/);
  });

  it('refuses bad lease options at construction, listing the option', () => {
    expect(() => createReadThrough({ redis, codec: 'json', leaseTtlMs: 0, loader: async () => null })).toThrow(/leaseTtlMs/);
    expect(() => createReadThrough({ redis, codec: 'json', leaseWaitMs: -1, loader: async () => null })).toThrow(/leaseWaitMs/);
    expect(() => createReadThrough({ redis, codec: 'json', loadTimeoutMs: 1.5, loader: async () => null })).toThrow(/loadTimeoutMs/);
  });

  it('refuses a bad minVersion or allowStaleMs per read, before Redis', async () => {
    const cache = returning(null);
    await expect(cache.read(freshKey(), { minVersion: -1n })).rejects.toMatchObject({ code: 'CACHE_VERSION_INVALID' });
    await expect(cache.read(freshKey(), { minVersion: 3 as unknown as bigint })).rejects.toMatchObject({ code: 'CACHE_VERSION_INVALID' });
    await expect(cache.read(freshKey(), { allowStaleMs: Number.NaN })).rejects.toMatchObject({ code: 'READ_OPTIONS_INVALID' });
  });
});
