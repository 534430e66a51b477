/**
 * Backfill on the real MariaDB and Redis: each row written as a reader's fill would, over every
 * state the guard knows; racing concurrent writers (whose invalidations arrive as the sink's
 * would) and guarded readers, it ends with every key missing, a tombstone or lease, or exactly
 * the database row; invalidate mode; the outbox_version table; usage errors.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { createReadThrough } from '../../src/cache/read-through.js';
import { RedisCacheWriter } from '../../src/cache/redis-cache-writer.js';
import { decodeStoredValue } from '../../src/cache/stored-value.js';
import { backfillCommand } from '../../src/cli/commands/backfill.js';
import { backfillNamespace } from '../../src/operations/backfill.js';
import { jsonSerializer, type BackfillSpec } from '../../src/operations/backfill-spec.js';
import { createTestDatabase, createTestRedis, type TestDatabase } from '../helpers.js';
import { runCli } from './run-cli.js';

const { redis, prefix } = createTestRedis();
let db: TestDatabase;
const serializer = jsonSerializer(['id', 'name', 'version']);
const spec = (over: Partial<BackfillSpec> = {}): BackfillSpec => ({
  namespace: 'product', table: 'products', pk: 'id', key: 'product:{id}', version: { column: 'version' }, columns: ['id', 'name', 'version'], mode: 'fill', ...over,
});
const TOKEN = 'c'.repeat(32);

beforeAll(async () => {
  db = await createTestDatabase('bf');
  await db.pool.query('CREATE TABLE products (id BIGINT PRIMARY KEY, name VARCHAR(64) NOT NULL, version BIGINT NOT NULL, active TINYINT NOT NULL DEFAULT 1)');
  await db.pool.query('CREATE TABLE outbox_version (aggregatetype VARCHAR(64) NOT NULL, aggregateid VARCHAR(255) NOT NULL, version BIGINT NOT NULL, PRIMARY KEY (aggregatetype, aggregateid))');
});
afterAll(async () => {
  await db?.drop();
  redis.disconnect();
});

async function reset(rows: number): Promise<void> {
  await db.pool.query('DELETE FROM products');
  const values = Array.from({ length: rows }, (_v, i) => [i + 1, `p${i + 1}`, 10, 1]);
  await db.pool.query('INSERT INTO products (id, name, version, active) VALUES ?', [values]);
}

async function dbRow(id: number): Promise<{ id: number; name: string; version: number } | undefined> {
  const [rows] = await db.pool.query('SELECT id, name, version FROM products WHERE id = ?', [id]);
  return (rows as { id: number; name: string; version: number }[])[0];
}

async function raw(key: string): Promise<string | null> {
  return (await redis.getBuffer(key))?.toString('latin1') ?? null;
}

describe('backfill', () => {
  it('fills each row as a reader would: over nothing, older entries and tombstones at or below the row; never over newer states', async () => {
    await reset(8);
    const p = `${prefix}a:`;
    const key = (id: number) => `${p}product:${id}`;
    await redis.set(key(2), 'E9:old', 'PX', 60_000);
    await redis.set(key(3), 'E12:newer', 'PX', 60_000);
    await redis.set(key(4), 'T11:', 'PX', 60_000);
    await redis.set(key(5), `L0:${TOKEN}`, 'PX', 60_000);
    await redis.set(key(6), 'T10:', 'PX', 60_000);
    await redis.set(key(7), 'A10:', 'PX', 60_000);
    await redis.hset(key(8), 'x', '1');
    const result = await backfillNamespace({ redis, mysql: db.pool, spec: spec(), keyPrefix: p, batchSize: 3 });
    expect(result).toMatchObject({ aborted: false, counts: { rows: 8, written: 3, refused: 3, busy: 1, gone: 0, wrongType: 1 } });
    const row = (id: number) => `E10:${serializer({ id, name: `p${id}`, version: 10 }) as string}`;
    expect(await raw(key(1))).toBe(row(1));
    expect(await raw(key(2))).toBe(row(2));
    expect(await raw(key(3))).toBe('E12:newer');
    expect(await raw(key(4))).toBe('T11:');
    expect(await raw(key(5))).toBe(`L0:${TOKEN}`);
    expect(await raw(key(6))).toBe(row(6));
    expect(await raw(key(7))).toBe('A10:');
    expect(await redis.pttl(key(1))).toBeGreaterThan(3_000_000);
    expect(await redis.exists(`${p}__outbox-cache:backfill:product`)).toBe(0);
  });

  it('races concurrent writers and guarded readers and ends with every key missing, a tombstone/lease, or exactly the row', async () => {
    // A small hot set, small batches and several passes: writes land inside batches often.
    const rows = 60;
    await reset(rows);
    const p = `${prefix}race:`;
    const writer = new RedisCacheWriter({ redis, entryTtlMs: 600_000, tombstoneTtlMs: 60_000 });
    const reader = createReadThrough({
      redis, codec: 'bytes', entryTtlMs: 600_000, tombstoneTtlMs: 60_000, leaseWaitMs: 50,
      loader: async (key) => {
        const row = await dbRow(Number(key.slice(`${p}product:`.length)));
        return row ? { version: BigInt(row.version), value: Buffer.from(serializer(row) as string) } : { absent: true };
      },
    });
    let running = true;
    let writes = 0;
    let reads = 0;
    const pick = () => 1 + Math.floor(Math.random() * rows);
    const writers = Array.from({ length: 6 }, async () => {
      while (running) {
        const id = pick();
        const conn = await db.pool.getConnection();
        let version: bigint;
        try {
          await conn.beginTransaction();
          await conn.query('UPDATE products SET name = ?, version = LAST_INSERT_ID(version + 1) WHERE id = ?', [`w${writes}`, id]);
          const [[found]] = (await conn.query('SELECT LAST_INSERT_ID() AS v')) as unknown as [[{ v: number }]];
          version = BigInt(found.v);
          await conn.commit();
        } finally {
          conn.release();
        }
        writes += 1;
        // The sink applies the invalidation some time after the commit.
        await writer.applyBatch([{ kind: 'invalidate', key: `${p}product:${id}`, version }]);
      }
    });
    const readers = Array.from({ length: 4 }, async () => {
      while (running) {
        await reader.read(`${p}product:${pick()}`);
        reads += 1;
      }
    });
    try {
      let written = 0;
      for (let pass = 0; pass < 8; pass++) {
        const result = await backfillNamespace({ redis, mysql: db.pool, spec: spec(), keyPrefix: p, batchSize: 4, leaseTtlMs: 5000 });
        expect(result.counts.rows).toBe(rows);
        written += result.counts.written;
      }
      expect(written).toBeGreaterThan(0);
    } finally {
      running = false;
      await Promise.all([...writers, ...readers]);
    }
    expect(writes).toBeGreaterThan(20);
    expect(reads).toBeGreaterThan(20);
    const [current] = await db.pool.query('SELECT id, name, version FROM products ORDER BY id');
    let exact = 0;
    for (const row of current as { id: number; name: string; version: number }[]) {
      const stored = decodeStoredValue(await redis.getBuffer(`${p}product:${row.id}`));
      if (stored === undefined || stored.state === 'tombstone' || stored.state === 'lease') continue;
      expect({ id: row.id, state: stored.state, version: stored.version, data: stored.data.toString() })
        .toEqual({ id: row.id, state: 'entry', version: BigInt(row.version), data: serializer(row) });
      exact += 1;
    }
    expect(exact).toBeGreaterThan(rows / 4);
  });

  it('lets a write win that commits, and is invalidated, between the batch\'s read and its fill', async () => {
    await reset(4);
    const p = `${prefix}between:`;
    const writer = new RedisCacheWriter({ redis });
    let injected = false;
    // The real pool, with a real write committed and invalidated right after the rows are read.
    const mysql = new Proxy(db.pool, {
      get(target, name, receiver) {
        if (name !== 'query') return Reflect.get(target, name, receiver) as unknown;
        return async (...args: Parameters<typeof target.query>) => {
          const result = await target.query(...args);
          if (!injected && String(args[0]).startsWith('SELECT * FROM')) {
            injected = true;
            await target.query('UPDATE products SET name = ?, version = 11 WHERE id = 2', ['changed']);
            await writer.applyBatch([{ kind: 'invalidate', key: `${p}product:2`, version: 11n }]);
          }
          return result;
        };
      },
    });
    const result = await backfillNamespace({ redis, mysql, spec: spec(), keyPrefix: p });
    expect(injected).toBe(true);
    expect(result.counts).toMatchObject({ rows: 4, written: 3, refused: 1 });
    expect(await raw(`${p}product:2`)).toBe('T11:');
    expect(await raw(`${p}product:1`)).toBe(`E10:${serializer({ id: 1, name: 'p1', version: 10 }) as string}`);
  });

  it('writes tombstones at the rows\' versions in invalidate mode, over older states only', async () => {
    await reset(3);
    const p = `${prefix}inv:`;
    await redis.set(`${p}product:2`, 'E12:newer', 'PX', 60_000);
    await redis.set(`${p}product:3`, 'E3:old', 'PX', 60_000);
    const result = await backfillNamespace({ redis, mysql: db.pool, spec: spec({ mode: 'invalidate' }), keyPrefix: p });
    expect(result.counts).toMatchObject({ rows: 3, written: 2, refused: 1 });
    expect([await raw(`${p}product:1`), await raw(`${p}product:2`), await raw(`${p}product:3`)]).toEqual(['T10:', 'E12:newer', 'T10:']);
  });

  it('reads versions from the outbox_version table in one snapshot with the row, and filters with --where', async () => {
    await reset(4);
    await db.pool.query("UPDATE products SET active = 0 WHERE id = 4");
    await db.pool.query("INSERT INTO outbox_version VALUES ('product', '1', 41), ('product', '2', 42), ('product', '3', 43), ('product', '4', 44)");
    const p = `${prefix}vt:`;
    const result = await backfillNamespace({
      redis, mysql: db.pool, spec: spec({ version: { table: 'outbox_version' }, where: 'active = 1' }), keyPrefix: p,
      serializer: (row) => (row.id === 3 ? null : `name=${String(row.name)}`),
    });
    expect(result.counts).toMatchObject({ rows: 3, written: 3 });
    expect([await raw(`${p}product:1`), await raw(`${p}product:2`), await raw(`${p}product:3`), await raw(`${p}product:4`)])
      .toEqual(['E41:name=p1', 'E42:name=p2', 'A43:', null]);
  });
});

describe('backfill command', () => {
  it('fills from flags and reports the counts', async () => {
    await reset(5);
    const p = `${prefix}cli:`;
    const env = { REDIS_URL: inject('redisUrl'), MYSQL_URL: db.url, CACHE_KEY_PREFIX: p };
    const run = await runCli(backfillCommand, ['--namespace', 'product', '--table', 'products', '--columns', 'id,name', '--batch-size', '2'], env);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('5 rows: 5 filled');
    expect(await raw(`${p}product:5`)).toBe('E10:{"id":5,"name":"p5"}');
  });

  it('reports every usage problem at once with exit 2', async () => {
    const run = await runCli(backfillCommand, ['--namespace', 'product', '--key', 'item:{id', '--version-column', 'v', '--version-table', 'ov', '--batch-size', '0'], {
      REDIS_URL: inject('redisUrl'), MYSQL_URL: 'mysql://u@h/db',
    });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--batch-size');
    const cross = await runCli(backfillCommand, ['--namespace', 'product', '--key', 'item:{id', '--version-column', 'v', '--version-table', 'ov'], {
      REDIS_URL: inject('redisUrl'), MYSQL_URL: 'mysql://u@h/db',
    });
    expect(cross.code).toBe(2);
    for (const text of ['--table: required', '--version-column: give a version column or a version table', "--key: must start with the namespace", '--key: has a brace']) {
      expect(cross.stderr).toContain(text);
    }
  });
});
