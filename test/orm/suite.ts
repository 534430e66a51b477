/**
 * The contract every ORM adapter is tested against, on the real MariaDB and asserted on the
 * binlog (what Debezium and the relay read): a committed transaction carries the outbox INSERT
 * (exact column values) and its DELETE in the same binlog transaction as the domain UPDATE; a
 * rolled-back one leaves nothing; every handle of the ORM that holds no transaction is refused
 * before anything is written.
 */
import type { RowDataPacket } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { OutboxEvent } from '../../src/outbox/event.js';
import type { NewOutboxEvent } from '../../src/outbox/validate.js';
import { migrateVersionTable } from '../../src/outbox/version-table.js';
import { withOutboxTransaction } from '../../src/outbox/writer.js';
import type { TestDatabase } from '../helpers.js';
import { binlogPosition, binlogText, readBinlogRows, type BinlogPosition, type BinlogRowEvent } from '../outbox/binlog.js';
import { createOutboxDatabase, userEvent, userSchema } from '../outbox/fixtures.js';

/** One ORM, opened on a test database, driving its own transactions. */
export interface OrmUnderTest {
  /** In one ORM transaction: `UPDATE users SET name = ? WHERE id = ?`, then publish `event`; commits. */
  updateAndPublish(userId: number, name: string, event: NewOutboxEvent): Promise<OutboxEvent>;
  /** Same, but the transaction rolls back after the publish resolved; resolves to the published event's id. */
  publishThenRollBack(userId: number, event: NewOutboxEvent): Promise<string>;
  /** Attempts of `action` through every handle of the ORM that holds no transaction (each must be refused). */
  outsideTransactions(action: OutsideAction): (() => Promise<unknown>)[];
  /** Runs `work` in one ORM transaction, committed when it resolves. */
  transact<T>(work: (tx: OrmTransaction) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** What a test does through the adapter outside any transaction. */
export type OutsideAction = { readonly kind: 'publish'; readonly event: NewOutboxEvent } | { readonly kind: 'nextVersion' };

/** One ORM transaction as the suite drives it: raw domain SQL through the ORM, and the adapter's two calls. */
export interface OrmTransaction {
  exec(sql: string, params: readonly (string | number)[]): Promise<void>;
  publish(event: NewOutboxEvent): Promise<OutboxEvent>;
  nextVersion(aggregateType: string, aggregateId: string): Promise<bigint>;
}

/** What a test file gets back to add its own cases. */
export interface OrmSuiteContext {
  readonly db: () => TestDatabase;
  readonly orm: () => OrmUnderTest;
  here(): Promise<BinlogPosition>;
  outboxEvents(from: BinlogPosition): Promise<BinlogRowEvent[]>;
  /** Commits one event through the mysql2 writer, so a binlog read can prove it saw the window. */
  commitMarker(): Promise<string>;
  newUser(): Promise<number>;
  tableCount(): Promise<number>;
}

let nextUser = 1;

/**
 * Registers the contract tests for one adapter; `open` connects the ORM to the file's database
 * (within `openTimeoutMs`, for ORMs that generate code first).
 */
export function describeOrmAdapter(name: string, open: (db: TestDatabase) => Promise<OrmUnderTest>, openTimeoutMs?: number): OrmSuiteContext {
  let db: TestDatabase;
  let orm: OrmUnderTest;
  beforeAll(async () => {
    db = await createOutboxDatabase(`orm_${name}`);
    await migrateVersionTable(db.pool);
    orm = await open(db);
  }, openTimeoutMs);
  afterAll(async () => {
    await orm?.close();
    await db?.drop();
  });

  const ctx: OrmSuiteContext = {
    db: () => db,
    orm: () => orm,
    here: async () => {
      const conn = await db.pool.getConnection();
      try {
        return await binlogPosition(conn);
      } finally {
        conn.release();
      }
    },
    outboxEvents: (from) => readBinlogRows(inject('mysqlUrl'), from, db.name, 'outbox'),
    commitMarker: () =>
      withOutboxTransaction(db.pool, async (_conn, publish) => (await publish(userEvent(900_000 + nextUser++, 1))).id),
    newUser: async () => {
      const id = nextUser++;
      await db.pool.query('INSERT INTO users (id, name, version) VALUES (?, ?, 0)', [id, `user ${id}`]);
      return id;
    },
    tableCount: async () => {
      const [rows] = await db.pool.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM outbox');
      return Number(rows[0]?.n);
    },
  };

  describe(`${name} adapter`, () => {
    it('commits the outbox row with the domain change: exact columns in the binlog, inserted and deleted in the same transaction', async () => {
      const userId = await ctx.newUser();
      const from = await ctx.here();
      const occurredAt = new Date(Date.UTC(2025, 0, 2, 3, 4, 5, 678));
      const event = await orm.updateAndPublish(userId, 'Zoë', userEvent(userId, 7, { aggregateId: `ü-${userId}/ß`, occurredAt }));
      const events = await ctx.outboxEvents(from);
      expect(events.map((e) => e.op)).toEqual(['INSERT', 'DELETE']);
      const [insert, del] = events as [BinlogRowEvent, BinlogRowEvent];
      expect(del.gtid).toBe(insert.gtid);
      const domain = await readBinlogRows(inject('mysqlUrl'), from, db.name, 'users');
      expect(domain.map((e) => [e.op, e.gtid, e.columns[1]?.bytes.toString('utf8')])).toEqual([['UPDATE', insert.gtid, 'Zoë']]);

      const value = { id: userId, name: `user ${userId}`, email: null, version: 7 };
      const payload = Buffer.concat([Buffer.from([0, 0, 0, 0, 6]), userSchema.type.toBuffer(value)]);
      const [id, aggregatetype, aggregateid, type, version, occurred, body] = insert.columns;
      expect(id?.text).toBe(event.id);
      expect(aggregatetype?.text).toBe('user');
      expect(aggregateid?.bytes.equals(Buffer.from(`ü-${userId}/ß`, 'utf8'))).toBe(true);
      expect(type?.text).toBe('UserChanged');
      expect(version).toMatchObject({ text: '7', quoted: false });
      expect(occurred?.text).toBe('2025-01-02 03:04:05.678');
      expect(body?.text).toBe(binlogText(payload));
      expect(body?.bytes.equals(payload)).toBe(true);
      expect(insert.columns).toHaveLength(7);
      expect(del.columns.map((c) => c.text)).toEqual(insert.columns.map((c) => c.text));
      expect(await ctx.tableCount()).toBe(0);
    });

    it('leaves nothing in the binlog when the transaction rolls back', async () => {
      const userId = await ctx.newUser();
      const from = await ctx.here();
      const rolledBack = await orm.publishThenRollBack(userId, userEvent(userId, 1));
      const marker = await ctx.commitMarker();
      const events = await ctx.outboxEvents(from);
      expect(rolledBack).toMatch(/^[0-9a-f-]{36}$/);
      expect(events.filter((e) => e.op === 'INSERT').map((e) => e.columns[0]?.text)).toEqual([marker]);
      const domain = await readBinlogRows(inject('mysqlUrl'), from, db.name, 'users');
      expect(domain).toEqual([]);
    });

    it('refuses to publish or take a version outside a transaction, writing nothing', async () => {
      const from = await ctx.here();
      const attempts = [
        ...orm.outsideTransactions({ kind: 'publish', event: userEvent(424_242, 1) }),
        ...orm.outsideTransactions({ kind: 'nextVersion' }),
      ];
      expect(attempts.length).toBeGreaterThan(1);
      for (const attempt of attempts) {
        await expect(attempt()).rejects.toMatchObject({ name: 'OutboxWriteError', code: 'OUTBOX_NOT_IN_TRANSACTION' });
      }
      const marker = await ctx.commitMarker();
      const events = await ctx.outboxEvents(from);
      expect(events.filter((e) => e.op === 'INSERT').map((e) => e.columns[0]?.text)).toEqual([marker]);
      expect(await ctx.tableCount()).toBe(0);
      const [versions] = await db.pool.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM outbox_version');
      expect(Number(versions[0]?.n)).toBe(0);
    });

    it('takes versions with nextVersion that keep increasing across delete and re-create of the aggregate', async () => {
      const id = 800_000 + nextUser++;
      const from = await ctx.here();
      const step = (sql: string, params: (string | number)[]): Promise<OutboxEvent> =>
        orm.transact(async (tx) => {
          const version = await tx.nextVersion('user', String(id));
          await tx.exec(sql, params);
          return tx.publish(userEvent(id, version));
        });
      const written = [
        await step('INSERT INTO users (id, name, version) VALUES (?, ?, 0)', [id, 'first']),
        await step('UPDATE users SET name = ? WHERE id = ?', ['renamed', id]),
        await step('DELETE FROM users WHERE id = ?', [id]),
        await step('INSERT INTO users (id, name, version) VALUES (?, ?, 0)', [id, 'again']),
      ];
      expect(written.map((e) => e.version)).toEqual([1n, 2n, 3n, 4n]);
      const inserts = (await ctx.outboxEvents(from)).filter((e) => e.op === 'INSERT');
      expect(inserts.map((e) => [e.columns[0]?.text, e.columns[2]?.text, e.columns[4]?.text])).toEqual(
        written.map((e) => [e.id, String(id), String(e.version)]),
      );
      // A rolled-back version is given back; the next transaction takes it.
      await expect(
        orm.transact(async (tx) => {
          expect(await tx.nextVersion('user', String(id))).toBe(5n);
          throw new Error('rolled back');
        }),
      ).rejects.toThrow('rolled back');
      expect(await orm.transact((tx) => tx.nextVersion('user', String(id)))).toBe(5n);
    });
  });
  return ctx;
}
