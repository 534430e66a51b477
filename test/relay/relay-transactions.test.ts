/**
 * Transactions the relay must read exactly on a real MariaDB: rows undone by `ROLLBACK TO
 * SAVEPOINT` in a transaction that also changed a non-transactional table (they stay in the binlog,
 * followed by that statement) are dropped; a transaction of 50,000 events is applied in bounded
 * chunks, read and applied before its end arrives, with its position marked only at its end.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OutboxEvent } from '../../src/outbox/event.js';
import type { RelayBatchInfo } from '../../src/relay/index.js';
import { waitUntil, type TestDatabase } from '../helpers.js';
import { Collector, createOutboxDatabase, eventId, insertOutboxRow, startTestRelay } from './relay-helpers.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await createOutboxDatabase('relay_tx');
  await db.pool.query('CREATE TABLE audit_log (id INT AUTO_INCREMENT PRIMARY KEY, note VARCHAR(64)) ENGINE=MyISAM');
});
afterAll(async () => db?.drop());

async function barrier(collector: Collector): Promise<void> {
  const id = await insertOutboxRow(db.pool, { aggregateType: 'marker', version: 1 });
  await waitUntil('marker event relayed', () => collector.ids().includes(id));
}

describe('relay transactions', () => {
  it('drops outbox rows undone by ROLLBACK TO SAVEPOINT in a transaction that touched a MyISAM table', async () => {
    const collector = new Collector();
    const { stop } = await startTestRelay(db, { apply: collector.apply, relayName: 'savepoints' });
    try {
      const conn = await db.pool.getConnection();
      const kept: string[] = [];
      try {
        await conn.beginTransaction();
        await conn.query("INSERT INTO audit_log (note) VALUES ('non-transactional')");
        kept.push(await insertOutboxRow(conn, { aggregateId: 'sp', version: 1 }));
        await conn.query('SAVEPOINT first');
        const undone = await insertOutboxRow(conn, { aggregateId: 'sp', version: 2 });
        await conn.query('SAVEPOINT `second one`');
        await insertOutboxRow(conn, { aggregateId: 'sp', version: 3 });
        await conn.query('ROLLBACK TO SAVEPOINT first');
        kept.push(await insertOutboxRow(conn, { aggregateId: 'sp', version: 4 }));
        await conn.query('SAVEPOINT third');
        kept.push(await insertOutboxRow(conn, { aggregateId: 'sp', version: 5 }));
        await conn.query('RELEASE SAVEPOINT third');
        await conn.commit();
        expect(undone).toBeDefined();
      } finally {
        conn.release();
      }
      // The server did log the undone rows and the rollback (else this test would prove nothing).
      const [files] = (await db.pool.query('SHOW BINARY LOGS')) as unknown as [{ Log_name: string }[]];
      let logged = false;
      for (const { Log_name: file } of files.slice(-2)) {
        const [events] = (await db.pool.query('SHOW BINLOG EVENTS IN ?', [file])) as unknown as [{ Info: string }[]];
        logged ||= events.some((e) => /ROLLBACK TO/i.test(e.Info));
      }
      expect(logged).toBe(true);
      await barrier(collector);
      expect(collector.events.filter((e) => e.aggregateId === 'sp').map((e) => e.id)).toEqual(kept);
    } finally {
      await stop();
    }
  });

  it('applies a 50,000-event transaction in chunks of at most the batch size, storing its position only at its end', async () => {
    const total = 50_000;
    const maxBatchEvents = 500;
    const maxQueuedEvents = 2_000;
    const slices: { events: number; position: boolean; queued: number }[] = [];
    const ref: { relay?: { stats(): { queuedEvents: number } } } = {};
    const seen: OutboxEvent[] = [];
    const { relay, stop } = await startTestRelay(db, {
      relayName: 'large', maxBatchEvents, maxQueuedEvents,
      apply: async (events) => void seen.push(...events),
      onBatchApplied: (batch: RelayBatchInfo) => {
        slices.push({ events: batch.events.length, position: batch.position !== undefined, queued: ref.relay?.stats().queuedEvents ?? 0 });
      },
    });
    ref.relay = relay;
    try {
      const payload = Buffer.alloc(512, 7);
      const ids: string[] = [];
      const conn = await db.pool.getConnection();
      try {
        await conn.beginTransaction();
        for (let from = 0; from < total; from += 1_000) {
          const rows: unknown[][] = [];
          for (let i = from; i < from + 1_000; i++) {
            const id = eventId();
            ids.push(id);
            rows.push([id, 'bulk', `k${i % 977}`, 'BulkChanged', String(Math.floor(i / 977) + 1), '2026-01-01 00:00:00.000', payload]);
          }
          await conn.query('INSERT INTO outbox (id, aggregatetype, aggregateid, type, version, occurred_at, payload) VALUES ?', [rows]);
        }
        await conn.commit();
      } finally {
        conn.release();
      }
      await waitUntil('every event applied', () => seen.length >= total, 120_000);
      expect(seen.map((e) => e.id)).toEqual(ids);
      const bulk = slices.filter((s) => s.events > 0);
      expect(Math.max(...bulk.map((s) => s.events))).toBeLessThanOrEqual(maxBatchEvents);
      expect(bulk.length).toBeGreaterThanOrEqual(total / maxBatchEvents);
      // Only the slice that completes the transaction carries a position.
      expect(bulk.filter((s) => s.position)).toHaveLength(1);
      expect(bulk.at(-1)?.position).toBe(true);
      // Read in chunks under back-pressure, never queued whole.
      expect(Math.max(...bulk.map((s) => s.queued))).toBeLessThanOrEqual(maxQueuedEvents + 2 * maxBatchEvents);
    } finally {
      await stop();
    }
  }, 180_000);
});
