/**
 * flush and rebuild on the real Redis and MariaDB: a flush keeps the version floors (a stale fill
 * after it is refused), touches only its namespace, counts in a dry run; a rebuild after Redis
 * came back from an old snapshot leaves no state older than the database.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { defineGuardCommands } from '../../src/cache/guard-scripts.js';
import { decodeStoredValue } from '../../src/cache/stored-value.js';
import { flushCommand } from '../../src/cli/commands/flush.js';
import { rebuildCommand } from '../../src/cli/commands/rebuild.js';
import { flushNamespace } from '../../src/operations/flush.js';
import { createTestDatabase, createTestRedis, type TestDatabase } from '../helpers.js';
import { runCli } from './run-cli.js';

const { redis: client, prefix } = createTestRedis();
const redis = defineGuardCommands(client);
const TOKEN = 'd'.repeat(32);
let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase('fr');
  await db.pool.query('CREATE TABLE products (id BIGINT PRIMARY KEY, name VARCHAR(64) NOT NULL, version BIGINT NOT NULL)');
});
afterAll(async () => {
  await db?.drop();
  client.disconnect();
});

async function raw(key: string): Promise<string | null> {
  return (await client.getBuffer(key))?.toString('latin1') ?? null;
}

describe('flush', () => {
  it('turns entries, absents and leases into tombstones at their own versions, only in its namespace, and keeps floors', async () => {
    const p = `${prefix}f:`;
    await client.set(`${p}product:1`, 'E5:old', 'PX', 600_000);
    await client.set(`${p}product:2`, 'A7:', 'PX', 600_000);
    await client.set(`${p}product:3`, `L4:${TOKEN}:1000:3:x`, 'PX', 600_000);
    await client.set(`${p}product:4`, 'T9:', 'PX', 600_000);
    await client.set(`${p}product:5`, 'not ours');
    await client.set(`${p}productx:1`, 'E5:other namespace');
    await client.set(`${p}product*:1`, 'E5:glob lookalike');
    const dry = await flushNamespace({ redis, namespace: 'product', keyPrefix: p, tombstoneTtlMs: 30_000, dryRun: true });
    expect(dry.counts).toEqual({ entries: 1, absents: 1, leases: 1, tombstones: 1, missing: 0, foreign: 1, wrongType: 0 });
    expect(await raw(`${p}product:1`)).toBe('E5:old');

    const run = await runCli(flushCommand, ['--namespace', 'product', '--rate', '1000', '--scan-count', '2'], {
      REDIS_URL: inject('redisUrl'), CACHE_KEY_PREFIX: p, CACHE_TOMBSTONE_TTL_MS: '30000',
    });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('turned 3 keys into tombstones (1 entries, 1 known absent, 1 leases)');
    expect(await raw(`${p}product:1`)).toBe('T5:');
    expect(await raw(`${p}product:2`)).toBe('T7:');
    expect(await raw(`${p}product:3`)).toBe('T4:');
    expect(await raw(`${p}product:4`)).toBe('T9:');
    expect(await raw(`${p}product:5`)).toBe('not ours');
    expect(await raw(`${p}productx:1`)).toBe('E5:other namespace');
    expect(await raw(`${p}product*:1`)).toBe('E5:glob lookalike');
    const ttl = await client.pttl(`${p}product:1`);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(30_000);

    // The lease holder from before the flush cannot fill; a reader after it gets a lease at the
    // floor, and its read from a lagging replica (version 4 < 5) is refused: the floor survived.
    expect(await redis.outboxCacheFillEntry(`${p}product:3`, '6', 'E', 60_000, 'x', TOKEN, 30_000)).toBe(0);
    expect(await redis.outboxCacheFillEntry(`${p}product:1`, '6', 'E', 60_000, 'x', '', 30_000)).toBe(0);
    const [kind, lease] = await redis.outboxCacheAcquireLeaseBuffer(`${p}product:1`, 'e'.repeat(32), 5000, '0');
    expect([kind.toString(), lease.toString()]).toEqual(['l', `L5:${'e'.repeat(32)}`]);
    expect(await redis.outboxCacheFillEntry(`${p}product:1`, '4', 'E', 60_000, 'stale', 'e'.repeat(32), 30_000)).toBe(0);
    expect(await raw(`${p}product:1`)).toBe('T5:');
    await redis.outboxCacheAcquireLeaseBuffer(`${p}product:1`, 'e'.repeat(32), 5000, '0');
    expect(await redis.outboxCacheFillEntry(`${p}product:1`, '5', 'E', 60_000, 'fresh', 'e'.repeat(32), 30_000)).toBe(1);
  });

  it('stops between SCAN steps when aborted', async () => {
    const p = `${prefix}fa:`;
    await Promise.all(Array.from({ length: 50 }, (_v, i) => client.set(`${p}product:${i}`, 'E1:x', 'PX', 60_000)));
    const controller = new AbortController();
    const result = await flushNamespace({
      redis, namespace: 'product', keyPrefix: p, tombstoneTtlMs: 30_000, scanCount: 5, signal: controller.signal,
      onProgress: () => controller.abort(),
    });
    expect(result.aborted).toBe(true);
    const flushed = result.counts.entries;
    expect(flushed).toBeGreaterThan(0);
    expect(flushed).toBeLessThan(50);
  });
});

describe('rebuild', () => {
  it('after Redis came back from an old snapshot, leaves every key exactly the row or a tombstone', async () => {
    const p = `${prefix}rb:`;
    await db.pool.query('DELETE FROM products');
    await db.pool.query("INSERT INTO products VALUES (1, 'a', 7), (2, 'b', 3), (3, 'c', 9)");
    // The snapshot: entries older than the database, one for a row deleted since, one current.
    await client.set(`${p}product:1`, 'E5:{"id":1,"name":"a-old"}', 'PX', 600_000);
    await client.set(`${p}product:2`, 'E3:{"id":2,"name":"b"}', 'PX', 600_000);
    await client.set(`${p}product:9`, 'E4:{"id":9,"name":"deleted"}', 'PX', 600_000);
    const env = { REDIS_URL: inject('redisUrl'), MYSQL_URL: db.url, CACHE_KEY_PREFIX: p };
    const run = await runCli(rebuildCommand, ['--namespace', 'product', '--table', 'products', '--columns', 'id,name'], env);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('flush: turned 3 keys into tombstones');
    expect(run.stdout).toContain('backfill: 3 rows: 3 filled');
    expect(await raw(`${p}product:1`)).toBe('E7:{"id":1,"name":"a"}');
    expect(await raw(`${p}product:2`)).toBe('E3:{"id":2,"name":"b"}');
    expect(await raw(`${p}product:3`)).toBe('E9:{"id":3,"name":"c"}');
    expect(decodeStoredValue(await client.getBuffer(`${p}product:9`))?.state).toBe('tombstone');
  });
});
