/**
 * Bounded-stale serving (opt-in) on the real Redis and MariaDB: with the sink keeping invalidated
 * bytes, a read that allows `allowStaleMs` gets the old value, flagged stale with its version,
 * while another reader holds the lease or when the database is down, and only within the bound
 * by Redis's clock; never for minVersion reads; never without the sink setting.
 */
import { createPool, type Pool, type RowDataPacket } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createReadThrough, type Loaded } from '../../src/cache/read-through.js';
import { RedisCacheWriter } from '../../src/cache/redis-cache-writer.js';
import { createTestDatabase, createTestRedis, waitUntil, type TestDatabase } from '../helpers.js';

const { redis, prefix } = createTestRedis();
const keeping = new RedisCacheWriter({ redis, keepStaleBytes: true });
const plain = new RedisCacheWriter({ redis });
let db: TestDatabase;
/** Nothing listens there: queries fail as in a database outage. */
let down: Pool;
let pool: Pool;

beforeAll(async () => {
  db = await createTestDatabase('stale');
  await db.pool.query('CREATE TABLE items (id VARCHAR(64) PRIMARY KEY, name VARCHAR(64) NOT NULL, version BIGINT NOT NULL)');
  down = createPool({ host: '127.0.0.1', port: 1, user: 'nobody', connectTimeout: 500 });
  pool = db.pool;
});
afterAll(async () => {
  await down.end();
  await db.drop();
  redis.disconnect();
});

async function load(id: string): Promise<Loaded<string>> {
  const [rows] = await pool.query<RowDataPacket[]>('SELECT name, CAST(version AS CHAR) AS v FROM items WHERE id = ?', [id]);
  const row = rows[0];
  return row ? { version: BigInt(String(row.v)), value: String(row.name) } : null;
}

async function write(id: string, name: string, version: bigint, writer = keeping): Promise<void> {
  await db.pool.query('INSERT INTO items VALUES (?, ?, ?) ON DUPLICATE KEY UPDATE name = VALUES(name), version = VALUES(version)', [id, name, version]);
  await writer.applyBatch([{ kind: 'invalidate', key: `${prefix}item:${id}`, version }]);
}

/** ms since the key's kept bytes were invalidated, by Redis's clock. */
async function keptAge(key: string): Promise<number> {
  const raw = (await redis.get(key)) ?? '';
  const at = Number(/^[TL]\d+:(?:[0-9a-f]{32}:)?(\d+):/.exec(raw)?.[1]);
  const [s, us] = await redis.time();
  return Number(s) * 1000 + Math.floor(Number(us) / 1000) - at;
}

const cache = createReadThrough<string>({ redis, codec: 'json', loader: (key) => load(key.slice(key.lastIndexOf(':') + 1)) });

describe('bounded-stale reads under a database outage', () => {
  it('serve the invalidated value within the bound, fail after it, and recover with the database', async () => {
    const key = `${prefix}item:outage`;
    await write('outage', 'v1', 1n);
    expect(await cache.read(key)).toMatchObject({ value: 'v1', fill: 'filled' });
    await write('outage', 'v2', 2n);
    expect(await redis.get(key)).toMatch(/^T2:\d+:1:"v1"$/);
    pool = down;
    try {
      const stale = await cache.read(key, { allowStaleMs: 60_000 });
      expect(stale).toMatchObject({ value: 'v1', version: 1n, source: 'stale' });
      expect(stale.staleAgeMs).toBeGreaterThanOrEqual(0);
      expect(stale.staleAgeMs).toBeLessThan(60_000);
      // The failed load gave its lease back: the tombstone (and its kept bytes) are there again.
      expect(await redis.get(key)).toMatch(/^T2:\d+:1:"v1"$/);
      await expect(cache.read(key)).rejects.toThrow(/ECONNREFUSED|connect/);
      await expect(cache.read(key, { allowStaleMs: 60_000, minVersion: 1n })).rejects.toThrow(/ECONNREFUSED|connect/);
      await waitUntil('the kept bytes are older than 100 ms', async () => (await keptAge(key)) > 100);
      await expect(cache.read(key, { allowStaleMs: 100 })).rejects.toThrow(/ECONNREFUSED|connect/);
    } finally {
      pool = db.pool;
    }
    expect(await cache.read(key, { allowStaleMs: 60_000 })).toEqual({ value: 'v2', version: 2n, source: 'database', fill: 'filled' });
  });

  it('has nothing to serve when the sink does not keep bytes', async () => {
    const key = `${prefix}item:nokeep`;
    await write('nokeep', 'v1', 1n, plain);
    await cache.read(key);
    await write('nokeep', 'v2', 2n, plain);
    expect(await redis.get(key)).toBe('T2:');
    pool = down;
    try {
      await expect(cache.read(key, { allowStaleMs: 60_000 })).rejects.toThrow(/ECONNREFUSED|connect/);
    } finally {
      pool = db.pool;
    }
  });
});

describe('bounded-stale reads while another reader holds the lease', () => {
  it('serve the kept bytes at once instead of waiting; other reads wait for the fill', async () => {
    const key = `${prefix}item:busy`;
    await write('busy', 'v1', 1n);
    await cache.read(key);
    await write('busy', 'v2', 2n);
    let open = (): void => undefined;
    const parked = new Promise<void>((resolve) => (open = resolve));
    let holderCalls = 0;
    const holder = createReadThrough<string>({
      redis, codec: 'json',
      loader: async () => {
        holderCalls++;
        await parked;
        return load('busy');
      },
    });
    const holding = holder.read(key);
    await waitUntil('the holder loads', () => holderCalls === 1);
    expect(await redis.get(key)).toMatch(/^L2:[0-9a-f]{32}:\d+:1:"v1"$/);
    let otherCalls = 0;
    const other = createReadThrough<string>({ redis, codec: 'json', loader: async () => (otherCalls++, load('busy')) });
    expect(await other.read(key, { allowStaleMs: 60_000 })).toMatchObject({ value: 'v1', version: 1n, source: 'stale' });
    const waiting = other.read(key);
    const fresh = other.read(key, { minVersion: 2n, allowStaleMs: 60_000 });
    open();
    expect(await holding).toMatchObject({ value: 'v2', version: 2n, fill: 'filled' });
    expect(await waiting).toEqual({ value: 'v2', version: 2n, source: 'cache' });
    expect(await fresh).toMatchObject({ value: 'v2', version: 2n });
    expect(otherCalls).toBe(0);
  });
});
