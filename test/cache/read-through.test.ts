import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RowDataPacket } from 'mysql2/promise';
import { createLeaseReadThrough } from '../../src/cache/lease-read-through.js';
import { createReadThrough, type Loaded } from '../../src/cache/read-through.js';
import { RedisCacheWriter } from '../../src/cache/redis-cache-writer.js';
import { createTestDatabase, createTestRedis, waitUntil, type TestDatabase } from '../helpers.js';

const { redis, prefix } = createTestRedis();
let db: TestDatabase;
const writer = new RedisCacheWriter({ redis });

beforeAll(async () => {
  db = await createTestDatabase('readthrough');
  await db.pool.query('CREATE TABLE items (id VARCHAR(64) PRIMARY KEY, name VARCHAR(64) NOT NULL, version BIGINT NOT NULL)');
});
afterAll(async () => {
  await db.drop();
  redis.disconnect();
});

/** A promise opened from outside: the loader parks on it so a test can interleave a write. */
function gate(): { wait: Promise<void>; open: () => void } {
  let open = (): void => undefined;
  const wait = new Promise<void>((resolve) => (open = resolve));
  return { wait, open };
}

async function selectItem(id: string): Promise<{ name: string; version: bigint } | undefined> {
  const [rows] = await db.pool.query<RowDataPacket[]>('SELECT name, CAST(version AS CHAR) AS v FROM items WHERE id = ?', [id]);
  const row = rows[0];
  return row ? { name: String(row.name), version: BigInt(String(row.v)) } : undefined;
}

/** The application's write: the row and its version in one statement, as DESIGN.md §2 asks. */
async function updateItem(id: string, name: string): Promise<bigint> {
  await db.pool.query('UPDATE items SET name = ?, version = version + 1 WHERE id = ?', [name, id]);
  return (await selectItem(id))?.version ?? 0n;
}

async function stored(key: string): Promise<string | null> {
  return (await redis.getBuffer(key))?.toString('latin1') ?? null;
}

describe('the stale-fill race (reader reads v1, writer commits v2 and the sink invalidates, reader fills)', () => {
  it('leaves the old value cached with plain cache-aside', async () => {
    const id = 'race-aside';
    const key = `${prefix}aside:${id}`;
    await db.pool.query('INSERT INTO items VALUES (?, ?, 1)', [id, 'old']);
    const paused = gate();
    const readDone = gate();
    const reader = (async () => {
      if ((await redis.get(key)) !== null) return;
      const row = await selectItem(id);
      readDone.open();
      await paused.wait;
      await redis.set(key, JSON.stringify(row?.name));
    })();
    await readDone.wait;
    await updateItem(id, 'new');
    await redis.del(key);
    paused.open();
    await reader;
    expect(await redis.get(key)).toBe(JSON.stringify('old'));
    expect((await selectItem(id))?.name).toBe('new');
  });

  it('never caches the old value through the guarded read path', async () => {
    const id = 'race-guard';
    const key = `${prefix}guard:${id}`;
    await db.pool.query('INSERT INTO items VALUES (?, ?, 1)', [id, 'old']);
    let paused: ReturnType<typeof gate> | undefined = gate();
    const readDone = gate();
    const cache = createReadThrough<string>({
      redis, codec: 'json',
      loader: async (): Promise<Loaded<string>> => {
        const row = await selectItem(id);
        if (paused) {
          readDone.open();
          await paused.wait;
        }
        return row ? { version: row.version, value: row.name } : null;
      },
    });
    const first = cache.read(key);
    await readDone.wait;
    const version = await updateItem(id, 'new');
    expect(await writer.applyBatch([{ kind: 'invalidate', key, version }])).toEqual(['applied']);
    paused.open();
    paused = undefined;
    expect(await first).toEqual({ value: 'old', version: 1n, source: 'database', fill: 'refused' });
    expect(await stored(key)).toBe('T2:');
    expect(await cache.read(key)).toEqual({ value: 'new', version: 2n, source: 'database', fill: 'filled' });
    expect(await cache.read(key)).toEqual({ value: 'new', version: 2n, source: 'cache' });
  });
});

describe('the stale-fill race with the tombstone evicted between the write and the fill', () => {
  it('refuses the fill: the eviction took the lease with it', async () => {
    const id = 'race-evicted';
    const key = `${prefix}guard:${id}`;
    await db.pool.query('INSERT INTO items VALUES (?, ?, 1)', [id, 'old']);
    let paused: ReturnType<typeof gate> | undefined = gate();
    const readDone = gate();
    const cache = createReadThrough<string>({
      redis, codec: 'json',
      loader: async (): Promise<Loaded<string>> => {
        const row = await selectItem(id);
        if (paused) {
          readDone.open();
          await paused.wait;
        }
        return row ? { version: row.version, value: row.name } : null;
      },
    });
    const first = cache.read(key);
    await readDone.wait;
    const version = await updateItem(id, 'new');
    expect(await writer.applyBatch([{ kind: 'invalidate', key, version }])).toEqual(['applied']);
    // maxmemory eviction, a restart or a FLUSH: the tombstone is gone before the old read fills.
    await redis.del(key);
    paused.open();
    paused = undefined;
    expect(await first).toEqual({ value: 'old', version: 1n, source: 'database', fill: 'lease-lost' });
    expect(await stored(key)).toBeNull();
    expect(await cache.read(key)).toEqual({ value: 'new', version: 2n, source: 'database', fill: 'filled' });
    expect(await cache.read(key)).toEqual({ value: 'new', version: 2n, source: 'cache' });
  });
});

describe('read-through', () => {
  it('shares one load among concurrent misses of a key (single-flight)', async () => {
    const key = `${prefix}flight`;
    const release = gate();
    let calls = 0;
    const cache = createReadThrough<number>({
      redis, codec: 'json',
      loader: async () => {
        calls++;
        await release.wait;
        return { version: 3n, value: 42 };
      },
    });
    const reads = Array.from({ length: 10 }, () => cache.get(key));
    await waitUntil('the load started', () => calls === 1);
    release.open();
    expect(await Promise.all(reads)).toEqual(Array(10).fill(42));
    expect(calls).toBe(1);
    expect(await stored(key)).toBe('E3:42');
  });

  it('caches absent rows (negative caching) with the negative TTL', async () => {
    const key = `${prefix}absent`;
    let calls = 0;
    const cache = createReadThrough<string>({
      redis, codec: 'json', negativeTtlMs: 90_000, tombstoneTtlMs: 60_000,
      loader: async () => (calls++, null),
    });
    expect(await cache.read(key)).toEqual({ value: undefined, version: 0n, source: 'database', fill: 'filled' });
    expect(await cache.read(key)).toEqual({ value: undefined, version: 0n, source: 'cache' });
    expect(calls).toBe(1);
    expect(await stored(key)).toBe('A0:');
    expect(await redis.pttl(key)).toBeGreaterThan(60_000);
    expect(await redis.pttl(key)).toBeLessThanOrEqual(90_000);
  });

  it('gives filled entries a jittered TTL within [ttl × (1 − jitter), ttl]', async () => {
    const draws = [0, 0.999];
    const cache = createReadThrough<string>({
      redis, codec: 'json', entryTtlMs: 200_000, ttlJitter: 0.5, random: () => draws.shift() ?? 0,
      loader: async () => ({ version: 1n, value: 'x' }),
    });
    await cache.get(`${prefix}ttl1`);
    await cache.get(`${prefix}ttl2`);
    const [long, short] = await Promise.all([redis.pttl(`${prefix}ttl1`), redis.pttl(`${prefix}ttl2`)]);
    expect(long).toBeGreaterThan(195_000);
    expect(short).toBeLessThanOrEqual(100_100);
    expect(short).toBeGreaterThan(95_000);
  });

  it('bypasses a cached version below minVersion (read-your-writes)', async () => {
    const key = `${prefix}ryw`;
    let dbVersion = 1n;
    const cache = createReadThrough<string>({
      redis, codec: 'json', loader: async () => ({ version: dbVersion, value: `v${dbVersion}` }),
    });
    expect(await cache.get(key)).toBe('v1');
    dbVersion = 2n;
    expect(await cache.get(key)).toBe('v1');
    expect(await cache.get(key, { minVersion: 1n })).toBe('v1');
    expect(await cache.read(key, { minVersion: 2n })).toEqual({ value: 'v2', version: 2n, source: 'database', fill: 'filled' });
    expect(await cache.read(key, { minVersion: 2n })).toEqual({ value: 'v2', version: 2n, source: 'cache' });
  });

  it('does not fill when the load outlives the lease TTL', async () => {
    const key = `${prefix}slow-read`;
    const cache = createReadThrough<string>({
      redis, codec: 'json', leaseTtlMs: 150, loadTimeoutMs: 20_000,
      loader: async () => {
        await waitUntil('the lease expired', async () => (await redis.exists(key)) === 0);
        return { version: 1n, value: 'slow' };
      },
    });
    expect(await cache.read(key)).toEqual({ value: 'slow', version: 1n, source: 'database', fill: 'lease-lost' });
    expect(await stored(key)).toBeNull();
  });

  it('takes the lease over a tombstone with its version as the floor, and fills at or above it', async () => {
    const key = `${prefix}floor`;
    await writer.applyBatch([{ kind: 'invalidate', key, version: 6n }]);
    const seen: (string | null)[] = [];
    const cache = createReadThrough<string>({
      redis, codec: 'json',
      loader: async () => {
        seen.push(await stored(key));
        return { version: 6n, value: 'six' };
      },
    });
    expect(await cache.read(key)).toEqual({ value: 'six', version: 6n, source: 'database', fill: 'filled' });
    expect(seen[0]).toMatch(/^L6:[0-9a-f]{32}$/);
  });

  it('gives the lease back to the tombstone when the loaded version is below its floor (a lagging replica)', async () => {
    const key = `${prefix}lagging`;
    await writer.applyBatch([{ kind: 'invalidate', key, version: 6n }]);
    const cache = createReadThrough<string>({ redis, codec: 'json', loader: async () => ({ version: 5n, value: 'five' }) });
    expect(await cache.read(key)).toEqual({ value: 'five', version: 5n, source: 'database', fill: 'refused' });
    expect(await stored(key)).toBe('T6:');
  });

  it('stores bytes as they are with the bytes codec', async () => {
    const key = `${prefix}bytes`;
    const value = Buffer.from([0, 0x3a, 0xff, 0x45]);
    const cache = createReadThrough({ redis, codec: 'bytes', loader: async () => ({ version: 9n, value }) });
    expect(await cache.get(key)).toEqual(value);
    expect(await cache.read(key)).toEqual({ value, version: 9n, source: 'cache' });
  });

  it('returns a value another process filled between the miss and the load without loading', async () => {
    const key = `${prefix}raced-fill`;
    let calls = 0;
    const cache = createReadThrough<string>({ redis, codec: 'json', loader: async () => (calls++, { version: 1n, value: 'db' }) });
    const original = redis.getBuffer.bind(redis);
    // The GET misses; then a sink upsert lands before beginFill.
    redis.getBuffer = (async (k: string) => {
      const result = await original(k);
      await writer.applyBatch([{ kind: 'upsert', key, version: 4n, value: Buffer.from('"sink"') }]);
      return result;
    }) as typeof redis.getBuffer;
    try {
      expect(await cache.read(key)).toEqual({ value: 'sink', version: 4n, source: 'cache' });
    } finally {
      redis.getBuffer = original as typeof redis.getBuffer;
    }
    expect(calls).toBe(0);
  });
});

describe('lease read-through (keys without a per-aggregate version)', () => {
  it('refuses the fill of a reader whose lease was revoked by an invalidation during its load', async () => {
    const key = `${prefix}lease:derived`;
    let source = 'old';
    let paused: ReturnType<typeof gate> | undefined = gate();
    const readDone = gate();
    const cache = createLeaseReadThrough<string>({
      redis, codec: 'json',
      loader: async () => {
        const value = source;
        if (paused) {
          readDone.open();
          await paused.wait;
        }
        return { value };
      },
    });
    const first = cache.read(key);
    await readDone.wait;
    source = 'new';
    await writer.applyBatch([{ kind: 'revoke-leases', key }]);
    paused.open();
    paused = undefined;
    expect(await first).toEqual({ value: 'old', version: 0n, source: 'database', fill: 'lease-lost' });
    expect(await stored(key)).toBeNull();
    expect(await cache.read(key)).toEqual({ value: 'new', version: 0n, source: 'database', fill: 'filled' });
    expect(await cache.read(key)).toEqual({ value: 'new', version: 0n, source: 'cache' });
  });

  it('caches an absent result, and refuses a fill over a tombstone of a version-managed key', async () => {
    const absentKey = `${prefix}lease:absent`;
    const cache = createLeaseReadThrough<string>({ redis, codec: 'json', loader: async () => null });
    expect(await cache.read(absentKey)).toMatchObject({ value: undefined, fill: 'filled' });
    expect(await cache.read(absentKey)).toMatchObject({ value: undefined, source: 'cache' });
    const tombKey = `${prefix}lease:tomb`;
    await writer.applyBatch([{ kind: 'invalidate', key: tombKey, version: 3n }]);
    const other = createLeaseReadThrough<string>({ redis, codec: 'json', loader: async () => ({ value: 'x' }) });
    expect(await other.read(tombKey)).toMatchObject({ value: 'x', fill: 'refused' });
    expect(await stored(tombKey)).toBe('T3:');
  });
});
