/**
 * Leases between readers on the real Redis: a reader that finds another reader's lease waits for
 * its fill instead of loading; the wait is bounded; a failed or timed-out loader gives its lease
 * back (to the tombstone's floor) so waiters move on at once; states written by the v1 scripts
 * are read correctly. Two read paths on one client stand for two processes (each has its own
 * single-flight; only the lease in Redis connects them).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { createLeaseReadThrough } from '../../src/cache/lease-read-through.js';
import { createReadThrough, type Loaded } from '../../src/cache/read-through.js';
import { RedisCacheWriter } from '../../src/cache/redis-cache-writer.js';
import { createTestRedis, waitUntil } from '../helpers.js';

const { redis, prefix } = createTestRedis();
const writer = new RedisCacheWriter({ redis });
afterAll(() => redis.disconnect());

function gate(): { wait: Promise<void>; open: () => void } {
  let open = (): void => undefined;
  const wait = new Promise<void>((resolve) => (open = resolve));
  return { wait, open };
}

async function stored(key: string): Promise<string | null> {
  return (await redis.getBuffer(key))?.toString('latin1') ?? null;
}

/** A loader that counts its calls and parks on `release` until the test opens it. */
function parkedLoader(result: Loaded<string>) {
  const release = gate();
  const state = { calls: 0 };
  const loader = async (): Promise<Loaded<string>> => {
    state.calls++;
    await release.wait;
    return result;
  };
  return { loader, release, state };
}

describe('one load per key across readers', () => {
  it('a second reader waits for the lease holder fill and does not load', async () => {
    const key = `${prefix}wait`;
    const a = parkedLoader({ version: 4n, value: 'from-a' });
    const b = parkedLoader({ version: 4n, value: 'from-b' });
    const first = createReadThrough<string>({ redis, codec: 'json', loader: a.loader }).read(key);
    await waitUntil('a holds the lease', () => a.state.calls === 1);
    const second = createReadThrough<string>({ redis, codec: 'json', loader: b.loader }).read(key);
    // b polls while a holds the lease; give it a few polls before a fills.
    await waitUntil('b is polling', async () => (await redis.get(key))?.startsWith('L0:') === true);
    a.release.open();
    expect(await first).toEqual({ value: 'from-a', version: 4n, source: 'database', fill: 'filled' });
    expect(await second).toEqual({ value: 'from-a', version: 4n, source: 'cache' });
    expect(b.state.calls).toBe(0);
  });

  it('a waiter whose budget runs out loads itself and does not fill', async () => {
    const key = `${prefix}budget`;
    const a = parkedLoader({ version: 4n, value: 'from-a' });
    const first = createReadThrough<string>({ redis, codec: 'json', loader: a.loader }).read(key);
    await waitUntil('a holds the lease', () => a.state.calls === 1);
    const impatient = createReadThrough<string>({ redis, codec: 'json', leaseWaitMs: 50, loader: async () => ({ version: 4n, value: 'from-b' }) });
    expect(await impatient.read(key)).toEqual({ value: 'from-b', version: 4n, source: 'database', fill: 'skipped' });
    expect(await stored(key)).toMatch(/^L0:[0-9a-f]{32}$/);
    a.release.open();
    expect(await first).toMatchObject({ fill: 'filled' });
  });

  it('a waiter takes over when the lease holder dies: blocked at most the lease TTL', async () => {
    const key = `${prefix}dead-holder`;
    // A lease left by a reader that died mid-load (as a crashed process leaves it).
    await redis.set(key, `L0:${'d'.repeat(32)}`, 'PX', 300);
    const started = Date.now();
    const cache = createReadThrough<string>({ redis, codec: 'json', loader: async () => ({ version: 1n, value: 'mine' }) });
    expect(await cache.read(key)).toEqual({ value: 'mine', version: 1n, source: 'database', fill: 'filled' });
    expect(Date.now() - started).toBeLessThan(300 + 250);
  });
});

describe('a loader that fails or never settles gives its lease back', () => {
  it('a failed load releases the lease to the tombstone floor, and the waiter loads at once', async () => {
    const key = `${prefix}fail`;
    await writer.applyBatch([{ kind: 'invalidate', key, version: 7n }]);
    const release = gate();
    let calls = 0;
    const failing = createReadThrough<string>({
      redis, codec: 'json', leaseTtlMs: 60_000,
      loader: async () => {
        calls++;
        await release.wait;
        throw new Error('database down');
      },
    });
    const first = failing.read(key);
    await waitUntil('the lease is held', () => calls === 1);
    expect(await stored(key)).toMatch(/^L7:/);
    const waiter = createReadThrough<string>({ redis, codec: 'json', leaseTtlMs: 60_000, loader: async () => ({ version: 7n, value: 'ok' }) }).read(key);
    release.open();
    await expect(first).rejects.toThrow('database down');
    expect(await waiter).toEqual({ value: 'ok', version: 7n, source: 'database', fill: 'filled' });
  });

  it('a loader that never settles is cut off by loadTimeoutMs; the tombstone floor comes back', async () => {
    const key = `${prefix}hang`;
    await writer.applyBatch([{ kind: 'invalidate', key, version: 9n }]);
    const hanging = createReadThrough<string>({
      redis, codec: 'json', leaseTtlMs: 60_000, loadTimeoutMs: 100, name: 'hangingLoader',
      loader: () => new Promise<Loaded<string>>(() => undefined),
    });
    const started = Date.now();
    const error = await hanging.read(key).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'READ_LOAD_TIMEOUT', retriable: true, message: expect.stringContaining("loader 'hangingLoader'") });
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(await stored(key)).toBe('T9:');
    expect(await redis.pttl(key)).toBeGreaterThan(50_000);
  });

  it('a timed-out load over a missing key deletes its lease, unblocking a waiter in another process', async () => {
    const key = `${prefix}hang-missing`;
    let holderStarted = false;
    const hanging = createReadThrough<string>({
      redis, codec: 'json', leaseTtlMs: 60_000, loadTimeoutMs: 300,
      loader: () => ((holderStarted = true), new Promise<Loaded<string>>(() => undefined)),
    });
    const first = hanging.read(key).catch((e: unknown) => e);
    await waitUntil('holder loading', () => holderStarted);
    const waiter = createReadThrough<string>({ redis, codec: 'json', leaseTtlMs: 60_000, loader: async () => ({ version: 2n, value: 'w' }) });
    const started = Date.now();
    expect(await waiter.read(key)).toEqual({ value: 'w', version: 2n, source: 'database', fill: 'filled' });
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(await first).toMatchObject({ code: 'READ_LOAD_TIMEOUT' });
  });
});

describe('states written by the v1 scripts are valid input', () => {
  it('reads v1 entries, absents, tombstones and leases correctly', async () => {
    const cache = (value: string) => createReadThrough<string>({ redis, codec: 'json', loader: async () => ({ version: 43n, value }) });
    await redis.set(`${prefix}v1:e`, 'E42:"cached"', 'PX', 60_000);
    expect(await cache('db').read(`${prefix}v1:e`)).toEqual({ value: 'cached', version: 42n, source: 'cache' });
    await redis.set(`${prefix}v1:a`, 'A44:', 'PX', 60_000);
    expect(await cache('db').read(`${prefix}v1:a`)).toEqual({ value: undefined, version: 44n, source: 'cache' });
    await redis.set(`${prefix}v1:t`, 'T43:', 'PX', 60_000);
    expect(await cache('db').read(`${prefix}v1:t`)).toEqual({ value: 'db', version: 43n, source: 'database', fill: 'filled' });
    // A v1 lease (floor 0) held by a v1 reader: waited for like any other, then taken over.
    await redis.set(`${prefix}v1:l`, `L0:${'9f2c'.repeat(8)}`, 'PX', 200);
    expect(await cache('db').read(`${prefix}v1:l`)).toMatchObject({ value: 'db', fill: 'filled' });
    // A v1 tombstone refuses an older fill as before; a v1 entry is replaced only by a newer version.
    expect(await writer.applyBatch([{ kind: 'upsert', key: `${prefix}v1:e`, version: 42n, value: Buffer.from('"x"') }])).toEqual(['stale']);
  });

  it('a v1 lease-managed entry (E0) stays a hit for the version-less read path', async () => {
    const key = `${prefix}v1:derived`;
    await redis.set(key, 'E0:"derived"', 'PX', 60_000);
    const cache = createLeaseReadThrough<string>({ redis, codec: 'json', loader: async () => ({ value: 'db' }) });
    expect(await cache.read(key)).toEqual({ value: 'derived', version: 0n, source: 'cache' });
  });
});
