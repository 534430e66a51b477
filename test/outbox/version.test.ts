/**
 * Versions taken under the row lock: concurrent writers of one aggregate produce strictly
 * increasing versions in binlog (commit) order, and the helper's failure modes.
 */
import { createConnection, type RowDataPacket } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { updateWithVersion } from '../../src/outbox/version.js';
import { withOutboxTransaction } from '../../src/outbox/writer.js';
import type { TestDatabase } from '../helpers.js';
import { binlogPosition, readBinlogRows } from './binlog.js';
import { createOutboxDatabase, userEvent } from './fixtures.js';

let db: TestDatabase;

beforeAll(async () => {
  db = await createOutboxDatabase('outbox_version');
  await db.pool.query("INSERT INTO users (id, name, version) VALUES (1, 'hot', 0), (2, 'a', 0), (3, 'b', 0), (4, 'big', 9007199254740990)");
});
afterAll(async () => db?.drop());

describe('updateWithVersion', () => {
  it('gives N concurrent transactions on one aggregate strictly increasing versions in binlog order', async () => {
    const n = 24;
    const from = await db.pool.getConnection().then(async (c) => {
      const p = await binlogPosition(c);
      c.release();
      return p;
    });
    const versions = await Promise.all(
      Array.from({ length: n }, (_, i) =>
        withOutboxTransaction(db.pool, async (conn, publish) => {
          const version = await updateWithVersion(conn, 'UPDATE users SET name = ?, version = LAST_INSERT_ID(version + 1) WHERE id = ?', [`w${i}`, 1]);
          await publish(userEvent(1, version));
          return version;
        }),
      ),
    );
    expect([...versions].sort((a, b) => (a < b ? -1 : 1))).toEqual(Array.from({ length: n }, (_, i) => BigInt(i + 1)));
    const inBinlog = (await readBinlogRows(inject('mysqlUrl'), from, db.name, 'outbox'))
      .filter((e) => e.op === 'INSERT')
      .map((e) => BigInt(e.columns[4]?.text ?? '0'));
    expect(inBinlog).toHaveLength(n);
    for (let i = 1; i < inBinlog.length; i++) expect(inBinlog[i]! > inBinlog[i - 1]!).toBe(true);
  });

  it('returns versions above 2^53 exactly, with or without supportBigNumbers', async () => {
    const conn = await db.pool.getConnection();
    const plain = await createConnection({ uri: db.url }); // supportBigNumbers off: insertId would be rounded
    try {
      await conn.beginTransaction();
      expect(await updateWithVersion(conn, 'UPDATE users SET version = LAST_INSERT_ID(version + 1) WHERE id = ?', [4])).toBe(9007199254740991n);
      await conn.commit();
      await plain.beginTransaction();
      expect(await updateWithVersion(plain, 'UPDATE users SET version = LAST_INSERT_ID(version + 1) WHERE id = ?', [4])).toBe(9007199254740992n);
      expect(await updateWithVersion(plain, 'UPDATE users SET version = LAST_INSERT_ID(version + 1) WHERE id = ?', [4])).toBe(9007199254740993n);
      await plain.commit();
      const [rows] = await db.pool.query<RowDataPacket[]>('SELECT CAST(version AS CHAR) AS v FROM users WHERE id = 4');
      expect(rows[0]?.v).toBe('9007199254740993');
    } finally {
      conn.release();
      await plain.end();
    }
  });

  it('refuses a missing row, several rows and SQL without LAST_INSERT_ID(expr)', async () => {
    const conn = await db.pool.getConnection();
    try {
      await conn.beginTransaction();
      await expect(updateWithVersion(conn, 'UPDATE users SET version = LAST_INSERT_ID(version + 1) WHERE id = ?', [404]))
        .rejects.toMatchObject({ code: 'OUTBOX_VERSION_ROW_NOT_FOUND' });
      await expect(updateWithVersion(conn, 'UPDATE users SET version = LAST_INSERT_ID(version + 1) WHERE id IN (2, 3)'))
        .rejects.toMatchObject({ code: 'OUTBOX_VERSION_AMBIGUOUS' });
      await expect(updateWithVersion(conn, 'UPDATE users SET version = version + 1 WHERE id = ?', [2]))
        .rejects.toMatchObject({ code: 'OUTBOX_VERSION_SQL' });
      await expect(updateWithVersion(conn, 'UPDATE nope SET version = LAST_INSERT_ID(version + 1)'))
        .rejects.toMatchObject({ code: 'OUTBOX_WRITE_FAILED', retriable: false });
      await conn.rollback();
    } finally {
      conn.release();
    }
  });
});
