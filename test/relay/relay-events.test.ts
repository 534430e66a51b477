/**
 * What the relay delivers from a real MariaDB binlog: committed outbox INSERTs, exactly, in commit
 * order; nothing for rollbacks, updates or deletes.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OutboxEvent } from '../../src/outbox/event.js';
import { waitUntil, type TestDatabase } from '../helpers.js';
import { Collector, createOutboxDatabase, eventId, insertOutboxRow, startTestRelay } from './relay-helpers.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await createOutboxDatabase('relay_ev');
  await db.pool.query('CREATE TABLE account (id VARCHAR(32) PRIMARY KEY, balance BIGINT NOT NULL, version BIGINT NOT NULL)');
});
afterAll(async () => db?.drop());

/** Writes a marker event and waits for it: everything committed before it has been seen. */
async function barrier(collector: Collector): Promise<void> {
  const id = await insertOutboxRow(db.pool, { aggregateType: 'marker', version: 1 });
  await waitUntil('marker event relayed', () => collector.ids().includes(id));
}

describe('binlog relay on MariaDB', () => {
  it('delivers committed events with exact column values and one event per INSERT', async () => {
    const collector = new Collector();
    const { stop } = await startTestRelay(db, { apply: collector.apply, relayName: 'exact' });
    try {
      const large = randomBytes(1024 * 1024 + 17);
      const rows = [
        { id: eventId(), aggregateType: 'user', aggregateId: 'ü😀-1', type: 'UserChanged', version: 2n ** 63n - 1n,
          occurredAt: '2026-11-22 18:53:17.123', payload: Buffer.from([0, 0, 0, 0, 6, 0xff, 0x00, 0x80]) },
        { id: eventId(), aggregateType: 'order_line', aggregateId: '9007199254740993', type: 'Created', version: 9007199254740993n,
          occurredAt: '1999-12-31 23:59:59.999', payload: large },
        { id: eventId(), aggregateType: 'user', aggregateId: '', type: 'T', version: 1n,
          occurredAt: '2026-01-01 00:00:00.000', payload: Buffer.alloc(0) },
      ];
      const conn = await db.pool.getConnection();
      await conn.beginTransaction();
      for (const row of rows) await insertOutboxRow(conn, row);
      await conn.commit();
      conn.release();
      await waitUntil('three events', () => collector.events.length >= 3);
      const expected: OutboxEvent[] = rows.map((r) => ({
        id: r.id, aggregateType: r.aggregateType, aggregateId: r.aggregateId, type: r.type, version: r.version,
        occurredAtMs: Date.parse(`${r.occurredAt.replace(' ', 'T')}Z`), payload: r.payload,
      }));
      expect(collector.events).toEqual(expected);
    } finally {
      await stop();
    }
  });

  it('never delivers rolled-back events; insert+delete in one transaction delivers one; updates and deletes of kept rows deliver nothing', async () => {
    const collector = new Collector();
    const { stop } = await startTestRelay(db, { apply: collector.apply, relayName: 'semantics' });
    try {
      const conn = await db.pool.getConnection();
      await conn.beginTransaction();
      await insertOutboxRow(conn, { id: eventId(), version: 1, aggregateId: 'rolled-back' });
      await conn.rollback();

      await conn.beginTransaction();
      const transient = await insertOutboxRow(conn, { version: 1, aggregateId: 'insert-delete' });
      await conn.query('DELETE FROM outbox WHERE id = ?', [transient]);
      await conn.commit();

      const kept = await insertOutboxRow(conn, { version: 1, aggregateId: 'kept' });
      await conn.query('UPDATE outbox SET type = ? WHERE id = ?', ['Changed', kept]);
      await conn.query('DELETE FROM outbox WHERE id = ?', [kept]);
      conn.release();

      await barrier(collector);
      expect(collector.events.map((e) => e.aggregateId)).toEqual(['insert-delete', 'kept', '1']);
      expect(collector.events.find((e) => e.id === kept)?.type).toBe('UserChanged');
    } finally {
      await stop();
    }
  });

  it('delivers concurrent writers\' events in commit order: versions strictly increase per aggregate', async () => {
    const collector = new Collector();
    const { stop, relay } = await startTestRelay(db, { apply: collector.apply, relayName: 'concurrent', maxBatchEvents: 7 });
    const accounts = ['a', 'b', 'c'];
    await db.pool.query('INSERT INTO account (id, balance, version) VALUES ?', [accounts.map((id) => [id, 0, 0])]);
    const writesPerWriter = 40;
    /** The outbox writer's pattern: the version comes from the row lock that serialises the aggregate. */
    async function writer(seed: number): Promise<void> {
      const conn = await db.pool.getConnection();
      try {
        for (let i = 0; i < writesPerWriter; i++) {
          const account = accounts[(seed + i) % accounts.length] as string;
          await conn.beginTransaction();
          await conn.query('UPDATE account SET balance = balance + 1, version = LAST_INSERT_ID(version + 1) WHERE id = ?', [account]);
          const [[row]] = (await conn.query('SELECT LAST_INSERT_ID() AS v')) as unknown as [[{ v: number }]];
          const id = await insertOutboxRow(conn, { aggregateType: 'account', aggregateId: account, version: row.v });
          await conn.query('DELETE FROM outbox WHERE id = ?', [id]);
          await conn.commit();
        }
      } finally {
        conn.release();
      }
    }
    try {
      const writers = 4;
      await Promise.all(Array.from({ length: writers }, (_, i) => writer(i)));
      await waitUntil('all events', () => collector.events.length >= writers * writesPerWriter, 30_000);
      for (const account of accounts) {
        const versions = collector.events.filter((e) => e.aggregateId === account).map((e) => Number(e.version));
        expect(versions.length).toBeGreaterThan(0);
        // Strictly increasing and gap-free: every commit arrived, in commit order.
        expect(versions).toEqual(versions.map((_, i) => i + 1));
      }
      expect(collector.events).toHaveLength(writers * writesPerWriter);
      expect(Math.max(...collector.batches)).toBeLessThanOrEqual(7);
      expect(relay.stats()).toMatchObject({ events: writers * writesPerWriter, invalidRows: 0 });
    } finally {
      await stop();
    }
  });

  it('pauses reading while the queue is full and loses nothing when it resumes', async () => {
    const collector = new Collector();
    const slow = async (events: readonly OutboxEvent[]): Promise<void> => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      await collector.apply(events);
    };
    const { stop } = await startTestRelay(db, { apply: slow, relayName: 'backpressure', maxQueuedEvents: 4, maxBatchEvents: 2 });
    try {
      const conn = await db.pool.getConnection();
      for (let v = 1; v <= 60; v++) await insertOutboxRow(conn, { aggregateType: 'bp', version: v });
      conn.release();
      await waitUntil('all 60', () => collector.events.length >= 60);
      expect(collector.events.map((e) => Number(e.version))).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
    } finally {
      await stop();
    }
  });

  it('skips outbox rows that cannot be events, counts them and goes on', async () => {
    const collector = new Collector();
    const { stop, relay } = await startTestRelay(db, { apply: collector.apply, relayName: 'invalid' });
    try {
      await insertOutboxRow(db.pool, { aggregateType: 'bad-type', version: 1 });
      await insertOutboxRow(db.pool, { version: 0 });
      await barrier(collector);
      expect(collector.events.map((e) => e.aggregateType)).toEqual(['marker']);
      expect(relay.stats().invalidRows).toBe(2);
    } finally {
      await stop();
    }
  });

  it('sees only its own database\'s outbox table', async () => {
    const collector = new Collector();
    const { stop } = await startTestRelay(db, { apply: collector.apply, relayName: 'scoped' });
    try {
      await db.pool.query('CREATE TABLE outbox_copy LIKE outbox');
      await db.pool.query('INSERT INTO outbox_copy (id, aggregatetype, aggregateid, type, version, occurred_at, payload) VALUES (?, ?, ?, ?, ?, ?, ?)',
        [eventId(), 'user', 'copy', 'T', 1, '2026-01-01 00:00:00', Buffer.alloc(1)]);
      await barrier(collector);
      expect(collector.events.map((e) => e.aggregateType)).toEqual(['marker']);
    } finally {
      await stop();
    }
  });
});
