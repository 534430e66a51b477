/**
 * nextVersion over outbox_version (DESIGN.md §2 recipe b) on the real MariaDB: concurrent writers
 * of one aggregate get strictly increasing versions, rollbacks give theirs back, big versions stay
 * exact; and both recipes survive delete and re-create of an aggregate, the cache serving the
 * re-created row (never a refused fill, never a "known absent" left over).
 */
import type { PoolConnection, RowDataPacket } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createReadThrough, type Loaded } from '../../src/cache/read-through.js';
import { RedisCacheWriter } from '../../src/cache/redis-cache-writer.js';
import { migrateVersionTable, nextVersion } from '../../src/outbox/version-table.js';
import { updateWithVersion } from '../../src/outbox/version.js';
import { createTestDatabase, createTestRedis, type TestDatabase } from '../helpers.js';

let db: TestDatabase;
const { redis, prefix } = createTestRedis();
const sink = new RedisCacheWriter({ redis });

beforeAll(async () => {
  db = await createTestDatabase('next_version');
  expect(await migrateVersionTable(db.pool)).toMatchObject({ created: true });
  expect(await migrateVersionTable(db.pool)).toMatchObject({ created: false });
  await db.pool.query('CREATE TABLE docs (id VARCHAR(64) PRIMARY KEY, body VARCHAR(64) NOT NULL)');
  await db.pool.query('CREATE TABLE notes (id VARCHAR(64) PRIMARY KEY, body VARCHAR(64) NOT NULL, deleted BOOLEAN NOT NULL, version BIGINT NOT NULL)');
});
afterAll(async () => {
  await db?.drop();
  redis.disconnect();
});

async function inTransaction<T>(work: (conn: PoolConnection) => Promise<T>, commit = true): Promise<T> {
  const conn = await db.pool.getConnection();
  try {
    await conn.beginTransaction();
    const result = await work(conn);
    await (commit ? conn.commit() : conn.rollback());
    return result;
  } finally {
    conn.release();
  }
}

describe('nextVersion', () => {
  it('gives concurrent transactions on one aggregate distinct, gapless versions from 1', async () => {
    const versions = await Promise.all(Array.from({ length: 20 }, () => inTransaction((c) => nextVersion(c, 'doc', 'hot'))));
    expect([...versions].sort((a, b) => Number(a - b))).toEqual(Array.from({ length: 20 }, (_v, i) => BigInt(i + 1)));
    expect(await inTransaction((c) => nextVersion(c, 'doc', 'other'))).toBe(1n);
  });

  it('gives a rolled-back version back and keeps versions exact above 2^53', async () => {
    await inTransaction((c) => nextVersion(c, 'doc', 'rb'));
    expect(await inTransaction((c) => nextVersion(c, 'doc', 'rb'), false)).toBe(2n);
    expect(await inTransaction((c) => nextVersion(c, 'doc', 'rb'))).toBe(2n);
    await db.pool.query("INSERT INTO outbox_version VALUES ('doc', 'big', 9007199254740992)");
    expect(await inTransaction((c) => nextVersion(c, 'doc', 'big'))).toBe(9007199254740993n);
  });

  it('refuses a bad aggregate type or id before running anything', async () => {
    await expect(inTransaction((c) => nextVersion(c, 'bad-type', '1'))).rejects.toMatchObject({ code: 'OUTBOX_INVALID_EVENT' });
    await expect(inTransaction((c) => nextVersion(c, 'doc', ''))).rejects.toMatchObject({ code: 'OUTBOX_INVALID_EVENT' });
    await expect(inTransaction((c) => nextVersion(c, 'doc', '1', { table: 'missing_table' }))).rejects.toMatchObject({
      code: 'OUTBOX_WRITE_FAILED', retriable: false,
    });
  });
});

describe('delete then re-create an aggregate', () => {
  it('recipe b (outbox_version): the cache serves the re-created row', async () => {
    const key = `${prefix}doc:r1`;
    const loader = async (): Promise<Loaded<string>> => {
      const [rows] = await db.pool.query<RowDataPacket[]>(
        `SELECT d.body, CAST(v.version AS CHAR) AS v FROM outbox_version v LEFT JOIN docs d ON d.id = v.aggregateid
          WHERE v.aggregatetype = 'doc' AND v.aggregateid = 'r1'`,
      );
      const row = rows[0];
      if (!row) return null;
      return row.body === null ? { absent: true, version: BigInt(String(row.v)) } : { version: BigInt(String(row.v)), value: String(row.body) };
    };
    const cache = createReadThrough<string>({ redis, codec: 'json', loader });
    const created = await inTransaction(async (c) => {
      await c.query("INSERT INTO docs VALUES ('r1', 'first')");
      return nextVersion(c, 'doc', 'r1');
    });
    await sink.applyBatch([{ kind: 'invalidate', key, version: created }]);
    expect(await cache.read(key)).toMatchObject({ value: 'first', version: 1n, fill: 'filled' });
    const deleted = await inTransaction(async (c) => {
      await c.query("DELETE FROM docs WHERE id = 'r1'");
      return nextVersion(c, 'doc', 'r1');
    });
    await sink.applyBatch([{ kind: 'delete', key, version: deleted }]);
    expect(await cache.read(key)).toEqual({ value: undefined, version: 2n, source: 'cache' });
    const recreated = await inTransaction(async (c) => {
      await c.query("INSERT INTO docs VALUES ('r1', 'second')");
      return nextVersion(c, 'doc', 'r1');
    });
    expect(recreated).toBe(3n);
    await sink.applyBatch([{ kind: 'invalidate', key, version: recreated }]);
    expect(await cache.read(key)).toEqual({ value: 'second', version: 3n, source: 'database', fill: 'filled' });
    expect(await cache.read(key)).toEqual({ value: 'second', version: 3n, source: 'cache' });
  });

  it('recipe a (version column, soft delete): the cache serves the re-created row', async () => {
    const key = `${prefix}note:n1`;
    const loader = async (): Promise<Loaded<string>> => {
      const [rows] = await db.pool.query<RowDataPacket[]>("SELECT body, deleted, CAST(version AS CHAR) AS v FROM notes WHERE id = 'n1'");
      const row = rows[0];
      if (!row) return null;
      const version = BigInt(String(row.v));
      return row.deleted ? { absent: true, version } : { version, value: String(row.body) };
    };
    const cache = createReadThrough<string>({ redis, codec: 'json', loader });
    await db.pool.query("INSERT INTO notes VALUES ('n1', 'first', FALSE, 1)");
    await sink.applyBatch([{ kind: 'invalidate', key, version: 1n }]);
    expect(await cache.read(key)).toMatchObject({ value: 'first', version: 1n, fill: 'filled' });
    const deleted = await inTransaction((c) =>
      updateWithVersion(c, "UPDATE notes SET deleted = TRUE, version = LAST_INSERT_ID(version + 1) WHERE id = 'n1'"));
    await sink.applyBatch([{ kind: 'delete', key, version: deleted }]);
    expect(await cache.read(key)).toEqual({ value: undefined, version: 2n, source: 'cache' });
    const recreated = await inTransaction((c) =>
      updateWithVersion(c, "UPDATE notes SET deleted = FALSE, body = 'second', version = LAST_INSERT_ID(version + 1) WHERE id = 'n1'"));
    await sink.applyBatch([{ kind: 'invalidate', key, version: recreated }]);
    expect(await cache.read(key)).toEqual({ value: 'second', version: 3n, source: 'database', fill: 'filled' });
  });

  it('without either recipe, a re-created row restarting at 1 is refused for as long as the old state lives', async () => {
    const key = `${prefix}naive:x`;
    await sink.applyBatch([{ kind: 'delete', key, version: 2n }]);
    const cache = createReadThrough<string>({ redis, codec: 'json', loader: async () => ({ version: 1n, value: 'second' }) });
    expect(await cache.read(key)).toEqual({ value: undefined, version: 2n, source: 'cache' });
    expect(await sink.applyBatch([{ kind: 'invalidate', key, version: 1n }])).toEqual(['stale']);
  });
});
