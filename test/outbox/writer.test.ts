/**
 * The writer against the real MariaDB, asserted on the binlog (what Debezium and the relay read),
 * not on the table.
 */
import type { Connection, PoolConnection, ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { OutboxWriteError } from '../../src/errors.js';
import { isTransactional } from '../../src/outbox/sql.js';
import { InvalidOutboxEventError } from '../../src/outbox/validate.js';
import { updateWithVersion } from '../../src/outbox/version.js';
import { endsTransaction } from '../../src/outbox/transaction-guard.js';
import { publishEvent, withOutboxTransaction } from '../../src/outbox/writer.js';
import type { TestDatabase } from '../helpers.js';
import { binlogPosition, binlogText, readBinlogRows, type BinlogPosition, type BinlogRowEvent } from './binlog.js';
import { createOutboxDatabase, userEvent, userSchema } from './fixtures.js';

let db: TestDatabase;
let nextUser = 1;

beforeAll(async () => {
  db = await createOutboxDatabase('outbox_writer');
});
afterAll(async () => db?.drop());

async function withConn<T>(fn: (conn: PoolConnection) => Promise<T>): Promise<T> {
  const conn = await db.pool.getConnection();
  try {
    return await fn(conn);
  } finally {
    conn.release();
  }
}

const here = (): Promise<BinlogPosition> => withConn((c) => binlogPosition(c));
const outboxEvents = (from: BinlogPosition): Promise<BinlogRowEvent[]> => readBinlogRows(inject('mysqlUrl'), from, db.name, 'outbox');

async function newUser(conn: Connection): Promise<number> {
  const id = nextUser++;
  await conn.query('INSERT INTO users (id, name, version) VALUES (?, ?, 0)', [id, `user ${id}`]);
  return id;
}

/** Statements this session has sent (SHOW STATUS counts itself). */
async function questions(conn: Connection): Promise<number> {
  const [rows] = await conn.query<RowDataPacket[]>("SHOW SESSION STATUS LIKE 'Questions'");
  return Number(rows[0]?.Value);
}

async function tableCount(): Promise<number> {
  const [rows] = await db.pool.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM outbox');
  return Number(rows[0]?.n);
}

/** Commits one event through the helper, so a binlog read can prove it saw this window. */
async function commitMarker(): Promise<string> {
  return withOutboxTransaction(db.pool, async (conn, publish) => {
    const id = await newUser(conn);
    return (await publish(userEvent(id, 1))).id;
  });
}

const inserted = (events: BinlogRowEvent[], id: string): BinlogRowEvent[] =>
  events.filter((e) => e.op === 'INSERT' && e.columns[0]?.text === id);

describe('publishEvent', () => {
  // MariaDB: check, INSERT and DELETE in one compound statement; the portable path (as on MySQL): three.
  it.each([
    { mariadbCompound: true, statements: 1 },
    { mariadbCompound: false, statements: 3 },
  ])('writes exactly the contracted column values to the binlog, inserted and deleted in the same transaction (%o)', async ({ mariadbCompound, statements }) => {
    const from = await here();
    const occurredAt = new Date(Date.UTC(2025, 0, 2, 3, 4, 5, 678));
    const { event, userId } = await withConn(async (conn) => {
      const userId = await newUser(conn);
      await conn.beginTransaction();
      const version = await updateWithVersion(conn, 'UPDATE users SET name = ?, version = LAST_INSERT_ID(version + 1) WHERE id = ?', ['Zoë', userId]);
      const before = await questions(conn);
      const event = await publishEvent(conn, userEvent(userId, version, { aggregateId: `ü-${userId}/ß`, occurredAt }), { mariadbCompound });
      // The transaction check plus the writes; the second SHOW STATUS counts itself too.
      expect((await questions(conn)) - before).toBe(statements + 1);
      await conn.commit();
      return { event, userId };
    });
    const events = await outboxEvents(from);
    expect(events.map((e) => e.op)).toEqual(['INSERT', 'DELETE']);
    const [insert, del] = events as [BinlogRowEvent, BinlogRowEvent];
    expect(del.gtid).toBe(insert.gtid);
    const domain = await readBinlogRows(inject('mysqlUrl'), from, db.name, 'users');
    expect(domain.find((e) => e.op === 'UPDATE')?.gtid).toBe(insert.gtid);

    const value = { id: userId, name: `user ${userId}`, email: null, version: 1 };
    const payload = Buffer.concat([Buffer.from([0, 0, 0, 0, 6]), userSchema.type.toBuffer(value)]);
    const [id, aggregatetype, aggregateid, type, version, occurred, body] = insert.columns;
    expect(id?.text).toBe(event.id);
    expect(event.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(aggregatetype?.text).toBe('user');
    expect(aggregateid?.bytes.equals(Buffer.from(`ü-${userId}/ß`, 'utf8'))).toBe(true);
    expect(type?.text).toBe('UserChanged');
    expect(version).toMatchObject({ text: '1', quoted: false });
    expect(occurred?.text).toBe('2025-01-02 03:04:05.678');
    expect(body?.bytes.equals(payload)).toBe(true);
    expect(body?.text).toBe(binlogText(payload));
    expect(userSchema.type.fromBuffer(body!.bytes.subarray(5))).toEqual(value);
    expect(event).toMatchObject({ aggregateType: 'user', version: 1n, occurredAtMs: occurredAt.getTime() });
    expect(event.payload.equals(payload)).toBe(true);
    expect(del.columns.map((c) => c.text)).toEqual(insert.columns.map((c) => c.text));
    expect(await tableCount()).toBe(0);
  });

  it('keeps the row in keep mode, with a version up to 2^63-1 and occurred_at defaulting to now (UTC, ms)', async () => {
    const from = await here();
    const max = 2n ** 63n - 1n;
    const before = Date.now();
    const event = await withOutboxTransaction(
      db.pool,
      async (_conn, publish) => publish(userEvent(999_000, max, { value: { id: 1, name: 'n', email: 'a@b.c', version: 1 } })),
      { keep: true },
    );
    const after = Date.now();
    expect(event.occurredAtMs).toBeGreaterThanOrEqual(before);
    expect(event.occurredAtMs).toBeLessThanOrEqual(after);
    const events = inserted(await outboxEvents(from), event.id);
    expect(events).toHaveLength(1);
    expect((await outboxEvents(from)).filter((e) => e.op === 'DELETE')).toHaveLength(0);
    expect(events[0]?.columns[4]?.text).toBe(max.toString());
    expect(events[0]?.columns[5]?.text).toBe(new Date(event.occurredAtMs).toISOString().replace('T', ' ').replace('Z', ''));
    const [rows] = await db.pool.query<RowDataPacket[]>('SELECT CAST(version AS CHAR) AS v FROM outbox WHERE id = ?', [event.id]);
    expect(rows[0]?.v).toBe(max.toString());
    await db.pool.query('DELETE FROM outbox');
  });

  it('never lets a rolled-back event reach the binlog', async () => {
    const from = await here();
    let rolledBack = '';
    const boom = new Error('domain rule failed');
    await expect(
      withOutboxTransaction(db.pool, async (conn, publish) => {
        const id = await newUser(conn);
        rolledBack = (await publish(userEvent(id, 1))).id;
        throw boom;
      }),
    ).rejects.toBe(boom);
    const marker = await commitMarker();
    const events = await outboxEvents(from);
    expect(inserted(events, marker)).toHaveLength(1);
    expect(rolledBack).not.toBe('');
    expect(events.filter((e) => e.columns[0]?.text === rolledBack)).toEqual([]);
  });

  it.each([{ mariadbCompound: true }, { mariadbCompound: false }])(
    'refuses to publish outside a transaction, and a Pool, without writing anything (%o)',
    async (options) => {
      const from = await here();
      await withConn(async (conn) => {
        await expect(publishEvent(conn, userEvent(1, 1), options)).rejects.toMatchObject({ code: 'OUTBOX_NOT_IN_TRANSACTION' });
        await expect(publishEvent(conn, userEvent(1, 1), { ...options, keep: true })).rejects.toMatchObject({ code: 'OUTBOX_NOT_IN_TRANSACTION' });
        await conn.beginTransaction();
        await conn.commit();
        await expect(publishEvent(conn, userEvent(1, 2), options)).rejects.toMatchObject({ code: 'OUTBOX_NOT_IN_TRANSACTION' });
        // Validation comes before the transaction check, hence before any SQL.
        await expect(publishEvent(conn, userEvent(1, 0), options)).rejects.toMatchObject({ code: 'OUTBOX_INVALID_EVENT', field: 'version' });
      });
      await expect(publishEvent(db.pool, userEvent(1, 3), options)).rejects.toMatchObject({ code: 'OUTBOX_NOT_IN_TRANSACTION' });
      const marker = await commitMarker();
      const events = await outboxEvents(from);
      expect(events.filter((e) => e.op === 'INSERT').map((e) => e.columns[0]?.text)).toEqual([marker]);
      expect(await tableCount()).toBe(0);
    },
  );

  it('accepts autocommit=0 (nothing commits until the caller does) and agrees with @@in_transaction', async () => {
    await withConn(async (conn) => {
      const state = async (): Promise<{ ours: boolean; mariadb: number }> => {
        const [ok] = await conn.query<ResultSetHeader>('DO 0');
        const [rows] = await conn.query<RowDataPacket[]>('SELECT @@in_transaction AS t');
        return { ours: isTransactional(ok.serverStatus), mariadb: Number(rows[0]?.t) };
      };
      expect(await state()).toEqual({ ours: false, mariadb: 0 });
      await conn.query('START TRANSACTION');
      expect(await state()).toEqual({ ours: true, mariadb: 1 });
      await conn.query('COMMIT');
      expect(await state()).toEqual({ ours: false, mariadb: 0 });
      await conn.query('SET autocommit = 0');
      // MariaDB opens the transaction at the next statement; what matters is that it will not autocommit.
      expect((await state()).ours).toBe(true);
      const from = await binlogPosition(conn);
      const event = await publishEvent(conn, userEvent(1, 1));
      expect(await state()).toEqual({ ours: true, mariadb: 1 });
      const portable = await publishEvent(conn, userEvent(1, 2), { mariadbCompound: false });
      await conn.query('ROLLBACK');
      await conn.query('SET autocommit = 1');
      const marker = await commitMarker();
      const events = await outboxEvents(from);
      expect(inserted(events, marker)).toHaveLength(1);
      expect(inserted(events, event.id)).toHaveLength(0);
      expect(inserted(events, portable.id)).toHaveLength(0);
    });
  });
});

describe('bad input', () => {
  const cases: [string, Parameters<typeof userEvent>[2], string][] = [
    ['aggregate type with a dash', { aggregateType: 'us-er' }, 'aggregateType'],
    ['empty aggregate type', { aggregateType: '' }, 'aggregateType'],
    ['aggregate type over 64 characters', { aggregateType: 'a'.repeat(65) }, 'aggregateType'],
    ['empty aggregate id', { aggregateId: '' }, 'aggregateId'],
    ['aggregate id over 255 characters', { aggregateId: 'é'.repeat(256) }, 'aggregateId'],
    ['aggregate id with a lone surrogate', { aggregateId: 'a\uD800' }, 'aggregateId'],
    ['empty event type', { type: '' }, 'type'],
    ['version 0', { version: 0 }, 'version'],
    ['negative version', { version: -1n }, 'version'],
    ['fractional version', { version: 1.5 }, 'version'],
    ['unsafe integer version', { version: 2 ** 53 }, 'version'],
    ['version above 2^63-1', { version: 2n ** 63n }, 'version'],
    ['version as a string', { version: '1' as unknown as number }, 'version'],
    ['value with a wrongly typed field', { value: { id: 1, name: 42, email: null, version: 1 } }, 'value.name'],
    ['value missing a field', { value: { id: 1, email: null, version: 1 } }, 'value.name'],
    ['value with an undeclared field', { value: { id: 1, name: 'n', email: null, version: 1, emial: 'x' } }, 'value'],
    ['schema of another aggregate type', { schema: { ...userSchema, subject: 'outbox.event.order-value' } }, 'schema.subject'],
    ['event id that is not a UUID v4', { id: 'not-a-uuid' }, 'id'],
    ['invalid occurredAt', { occurredAt: new Date(NaN) }, 'occurredAt'],
  ];

  it('refuses every bad input before sending any SQL, naming the field, and writes nothing', async () => {
    const from = await here();
    await withConn(async (conn) => {
      const userId = await newUser(conn);
      await conn.beginTransaction();
      const version = await updateWithVersion(conn, 'UPDATE users SET version = LAST_INSERT_ID(version + 1) WHERE id = ?', [userId]);
      for (const [name, overrides, field] of cases) {
        const before = await questions(conn);
        const err = await publishEvent(conn, userEvent(userId, version, overrides)).catch((e: unknown) => e);
        expect(err, name).toBeInstanceOf(InvalidOutboxEventError);
        expect(err, name).toBeInstanceOf(OutboxWriteError);
        expect((err as InvalidOutboxEventError).field, name).toBe(field);
        expect((err as Error).message, name).toContain(field);
        // Only the second SHOW STATUS itself was counted: publish sent nothing.
        expect((await questions(conn)) - before, name).toBe(1);
      }
      await conn.commit();
    });
    const events = await outboxEvents(from);
    expect(events).toEqual([]);
    const domain = await readBinlogRows(inject('mysqlUrl'), from, db.name, 'users');
    expect(domain.map((e) => e.op)).toEqual(['INSERT', 'UPDATE']);
  });
});

describe('withOutboxTransaction', () => {
  it('commits, returns the result, and hands the connection back in autocommit mode', async () => {
    const from = await here();
    const result = await withOutboxTransaction(db.pool, async (conn, publish) => {
      const id = await newUser(conn);
      const version = await updateWithVersion(conn, 'UPDATE users SET version = LAST_INSERT_ID(version + 1) WHERE id = ?', [id]);
      return { id, event: await publish(userEvent(id, version)) };
    });
    expect(inserted(await outboxEvents(from), result.event.id)).toHaveLength(1);
    const [rows] = await db.pool.query<RowDataPacket[]>('SELECT version FROM users WHERE id = ?', [result.id]);
    expect(Number(rows[0]?.version)).toBe(1);
    // Every pooled connection must come back autocommitting and idle.
    const conns = await Promise.all(Array.from({ length: 5 }, () => db.pool.getConnection()));
    for (const conn of conns) {
      const [ok] = await conn.query<ResultSetHeader>('DO 0');
      expect(isTransactional(ok.serverStatus)).toBe(false);
      conn.release();
    }
  });

  it('refuses, before they run, statements that would commit part of the transaction, and rolls back the rest', async () => {
    const from = await here();
    let early = '';
    const refused: string[] = [];
    await expect(
      withOutboxTransaction(db.pool, async (conn, publish) => {
        const id = await newUser(conn);
        early = (await publish(userEvent(id, 1))).id;
        const attempts: [string, () => Promise<unknown>][] = [
          ['COMMIT', () => conn.query('COMMIT')],
          ['commit()', () => conn.commit()],
          ['rollback()', () => conn.rollback()],
          ['DDL', () => conn.query('CREATE TABLE escaped_t (id INT)')],
          ['DDL after a comment', () => conn.execute({ sql: '/* migration */ ALTER TABLE users ADD COLUMN z INT' })],
          ['TRUNCATE', () => conn.query('truncate users')],
          ['autocommit', () => conn.query('SET autocommit = 1')],
          ['LOCK TABLES', () => conn.query('LOCK TABLES users WRITE')],
          ['START TRANSACTION', () => conn.query('START TRANSACTION')],
        ];
        for (const [name, attempt] of attempts) {
          const err = await attempt().then(() => undefined, (e: unknown) => e);
          if ((err as { code?: string } | undefined)?.code === 'OUTBOX_TRANSACTION_ESCAPE') refused.push(name);
        }
        // These stay inside the transaction.
        await conn.query('SAVEPOINT s1');
        await conn.query('ROLLBACK TO SAVEPOINT s1');
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    expect(refused).toEqual(['COMMIT', 'commit()', 'rollback()', 'DDL', 'DDL after a comment', 'TRUNCATE', 'autocommit', 'LOCK TABLES', 'START TRANSACTION']);
    expect(inserted(await outboxEvents(from), early)).toHaveLength(0);
    const [tables] = await db.pool.query<RowDataPacket[]>("SHOW TABLES LIKE 'escaped_t'");
    expect(tables).toHaveLength(0);
    for (const inside of ['CREATE TEMPORARY TABLE t (id INT)', 'DROP TEMPORARY TABLE t', 'ROLLBACK WORK TO s1', 'SELECT 1', '-- note\nUPDATE users SET name = 1']) {
      expect(endsTransaction(inside), inside).toBe(false);
    }
    for (const ends of ['# c\nDROP TABLE t', 'set session autocommit=1', 'Rename table a to b', 'GRANT ALL ON *.* TO x', 'begin']) {
      expect(endsTransaction(ends), ends).toBe(true);
    }
  });

  it('refuses publish after the transaction ended and a connection that is already in a transaction', async () => {
    let saved: ((e: ReturnType<typeof userEvent>) => Promise<unknown>) | undefined;
    await withOutboxTransaction(db.pool, async (_conn, publish) => {
      saved = publish;
    });
    await expect(saved!(userEvent(1, 1))).rejects.toMatchObject({ code: 'OUTBOX_NOT_IN_TRANSACTION' });
    await withConn(async (conn) => {
      await conn.beginTransaction();
      await expect(withOutboxTransaction(conn, async () => 1)).rejects.toMatchObject({ code: 'OUTBOX_ALREADY_IN_TRANSACTION' });
      await conn.rollback();
      await conn.query('SET autocommit = 0');
      expect(await withOutboxTransaction(conn, async () => 7)).toBe(7);
      const [ok] = await conn.query<ResultSetHeader>('DO 0');
      expect(ok.serverStatus & 2).toBe(0); // the caller's autocommit=0 is left as it was
      await conn.query('ROLLBACK');
      await conn.query('SET autocommit = 1');
    });
  });
});
