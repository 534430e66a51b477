/**
 * The read path with an L1 tier, on real Redis and MariaDB: hits served from memory with no Redis
 * command, fills only from what the guard vouches for, `minVersion` bypass, and the property that
 * matters: across 4 reader processes and a concurrent writer, no L1 read returns a version older
 * than one whose invalidation Redis had applied before the read began, plus the delivery bound.
 */
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { RowDataPacket } from 'mysql2/promise';
import { createReadThrough } from '../../../src/cache/read-through.js';
import { RedisCacheWriter } from '../../../src/cache/redis-cache-writer.js';
import { Redis } from 'ioredis';
import { createTestDatabase, createTestRedis, uniqueName, waitUntil, type TestDatabase } from '../../helpers.js';
import { killSubscriber } from './l1-helpers.js';

const { prefix } = createTestRedis();
// Its own connection name: this file kills its own subscriber connection, no other file's.
const redis = new Redis(inject('redisUrl'), { connectionName: uniqueName('l1read') });
let db: TestDatabase;
const writer = new RedisCacheWriter({ redis });

beforeAll(async () => {
  db = await createTestDatabase('l1read');
  await db.pool.query('CREATE TABLE items (id VARCHAR(64) PRIMARY KEY, name VARCHAR(64) NOT NULL, version BIGINT NOT NULL)');
});
afterAll(async () => {
  await db.drop();
  redis.disconnect();
});

async function loadItem(id: string): Promise<{ version: bigint; value: string } | null> {
  const [rows] = await db.pool.query<RowDataPacket[]>('SELECT name, CAST(version AS CHAR) AS v FROM items WHERE id = ?', [id]);
  const row = rows[0];
  return row ? { version: BigInt(String(row.v)), value: String(row.name) } : null;
}

/** The application's write and what the sink does for it: new row version, then the tombstone. */
async function write(id: string, key: string, name: string): Promise<bigint> {
  await db.pool.query('UPDATE items SET name = ?, version = version + 1 WHERE id = ?', [name, id]);
  const version = (await loadItem(id))?.version ?? 0n;
  await writer.applyBatch([{ kind: 'invalidate', key, version }]);
  return version;
}

/**
 * Commands this test's client sends from now on (the server-wide command stats would count other
 * test files' commands too; the L1 subscriber has a connection of its own).
 */
function countCommands(): { readonly count: () => number; readonly stop: () => void } {
  let count = 0;
  const original = redis.sendCommand.bind(redis);
  redis.sendCommand = ((command: Parameters<typeof original>[0], stream?: Parameters<typeof original>[1]) => {
    count += 1;
    return original(command, stream);
  }) as typeof redis.sendCommand;
  return { count: () => count, stop: () => void (redis.sendCommand = original) };
}

describe('the read path with an L1', () => {
  it('serves hits from memory without a Redis command, and drops them when the sink writes', async () => {
    await db.pool.query('INSERT INTO items VALUES (?, ?, 1)', ['a', 'one']);
    const key = `${prefix}a`;
    const cache = createReadThrough<string>({ redis, codec: 'json', l1: { ttlMs: 60_000 }, loader: () => loadItem('a') });
    await cache.read(key); // subscribes; cannot fill L1 yet
    await waitUntil('the invalidation channel is live', async () => (await cache.read(key)).source !== 'database' && cache.l1Stats()?.fills === 1);
    const commands = countCommands();
    for (let i = 0; i < 20; i++) expect(await cache.read(key)).toMatchObject({ source: 'l1', value: 'one', version: 1n });
    commands.stop();
    expect(commands.count()).toBe(0);

    await write('a', key, 'two');
    await waitUntil('L1 dropped the entry and the read path reads version 2', async () => (await cache.read(key)).version === 2n, 2_000);
    expect(await cache.read(key)).toMatchObject({ value: 'two', version: 2n });
    await cache.close();
  });

  it('bypasses an L1 entry below minVersion and never serves L1 across a lost subscription', async () => {
    await db.pool.query('INSERT INTO items VALUES (?, ?, 5)', ['b', 'five']);
    const key = `${prefix}b`;
    const cache = createReadThrough<string>({ redis, codec: 'json', l1: { ttlMs: 60_000 }, loader: () => loadItem('b') });
    await cache.read(key);
    await waitUntil('filled into L1', async () => (await cache.read(key), cache.l1Stats()?.fills === 1));
    expect((await cache.read(key)).source).toBe('l1');
    expect((await cache.read(key, { minVersion: 6n })).source).not.toBe('l1');
    await killSubscriber(redis);
    await waitUntil('L1 cleared', () => (cache.l1Stats()?.entries ?? -1) === 0, 5_000);
    expect((await cache.read(key)).source).toBe('cache');
    await cache.close();
  });

  it('returns frozen values when L1 is on, so a caller cannot change what others read', async () => {
    await db.pool.query('INSERT INTO items VALUES (?, ?, 1)', ['c', 'x']);
    const cache = createReadThrough<{ name: string; tags: string[] }>({
      redis, codec: 'json', l1: {}, loader: async () => ({ version: 1n, value: { name: 'c', tags: ['t'] } }),
    });
    const key = `${prefix}c`;
    await cache.read(key);
    await waitUntil('filled into L1', async () => (await cache.read(key), cache.l1Stats()?.fills === 1));
    const value = await cache.get(key);
    expect(Object.isFrozen(value) && Object.isFrozen(value?.tags)).toBe(true);
    await cache.close();
  });
});

describe('L1 across processes', () => {
  it('no L1 read returns a version older than one invalidated in Redis before the read began (4 processes, a concurrent writer)', async () => {
    const KEYS = 8;
    const DURATION_MS = 5_000;
    const BOUND_MS = 250;
    for (let i = 0; i < KEYS; i++) await db.pool.query('INSERT INTO items VALUES (?, ?, 1)', [`p:${i}`, 'v1']);
    const readers = Array.from({ length: 4 }, () => {
      const child = spawn(process.execPath, ['--import', 'tsx', 'test/fixtures/l1-reader.ts'], {
        env: { ...process.env, REDIS_URL: inject('redisUrl'), MYSQL_URL: db.url, PREFIX: prefix, KEYS: String(KEYS), DURATION_MS: String(DURATION_MS), L1_TTL_MS: '30000' },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
      return new Promise<{ reads: number; l1: [string, string, number][] }>((resolve, reject) => {
        child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out) as { reads: number; l1: [string, string, number][] }) : reject(new Error(`reader exited ${code}`))));
      });
    });
    // Writes until the readers are done: per key, each version and when Redis had applied its tombstone.
    const applied = new Map<string, { version: bigint; at: number }[]>();
    let writing = true;
    const all = Promise.all(readers).finally(() => (writing = false));
    let writes = 0;
    while (writing) {
      const i = Math.floor(Math.random() * KEYS);
      const key = `${prefix}p:${i}`;
      const version = await write(`p:${i}`, key, `w${writes}`);
      const list = applied.get(key) ?? [];
      list.push({ version, at: Date.now() });
      applied.set(key, list);
      writes += 1;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    const results = await all;
    let l1Reads = 0;
    let violations = 0;
    for (const { l1 } of results) {
      for (const [key, version, startedAt] of l1) {
        l1Reads += 1;
        const due = (applied.get(key) ?? []).filter((a) => a.at + BOUND_MS < startedAt);
        const newest = due.reduce((max, a) => (a.version > max ? a.version : max), 0n);
        if (BigInt(version) < newest) violations += 1;
      }
    }
    console.log(`L1 property: ${writes} writes, ${results.reduce((s, r) => s + r.reads, 0)} reads, ${l1Reads} from L1, ${violations} violations`);
    expect(writes).toBeGreaterThan(50);
    expect(l1Reads).toBeGreaterThan(100);
    expect(violations).toBe(0);
  }, 60_000);
});
