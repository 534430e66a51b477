/**
 * The relay's durable position on a real MariaDB: stored only behind applied events, resumed after
 * a stop or a failure with nothing lost, refused when it cannot be trusted; plus the relay's lock,
 * its reconnection after the binlog connection is killed, and its documented minimal privileges.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createConnection, createPool, type RowDataPacket } from 'mysql2/promise';
import { ConfigError, ScriptError } from '../../src/errors.js';
import { RelayError } from '../../src/relay/index.js';
import { MySqlPositionStore } from '../../src/relay/position-store.js';
import { uniqueSuffix, waitUntil, type TestDatabase } from '../helpers.js';
import { Collector, createOutboxDatabase, insertOutboxRow, startTestRelay } from './relay-helpers.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await createOutboxDatabase('relay_pos');
});
afterAll(async () => db?.drop());

async function storedPosition(relayName: string): Promise<{ file: string; position: number } | undefined> {
  const [rows] = await db.pool.query<RowDataPacket[]>(
    'SELECT binlog_file AS file, binlog_position AS position FROM outbox_relay_position WHERE relay_name = ?', [relayName]);
  return rows[0] && { file: String(rows[0].file), position: Number(rows[0].position) };
}

async function writeEvents(aggregateId: string, from: number, count: number): Promise<void> {
  for (let v = from; v < from + count; v++) await insertOutboxRow(db.pool, { aggregateId, version: v });
}

const versionsOf = (c: Collector, aggregateId: string) =>
  c.events.filter((e) => e.aggregateId === aggregateId).map((e) => Number(e.version));

describe('relay positions', () => {
  it('resumes after a stop from the stored position: events committed while stopped arrive', async () => {
    const first = new Collector();
    const a = await startTestRelay(db, { apply: first.apply, relayName: 'resume' });
    const initial = await storedPosition('resume');
    expect(initial).toBeDefined();
    await writeEvents('r', 1, 20);
    await waitUntil('first 20', () => first.events.length >= 20);
    await a.stop();
    const afterStop = await storedPosition('resume');
    expect(afterStop?.position).toBeGreaterThan(initial?.position ?? Infinity);

    await writeEvents('r', 21, 20);
    const second = new Collector();
    const b = await startTestRelay(db, { apply: second.apply, relayName: 'resume' });
    try {
      await waitUntil('events written while stopped', () => versionsOf(second, 'r').includes(40));
      // A graceful stop stored the position behind every applied event: nothing is re-delivered.
      expect(versionsOf(second, 'r')).toEqual(Array.from({ length: 20 }, (_, i) => i + 21));
    } finally {
      await b.stop();
    }
  });

  it('stops on a non-retriable apply error without storing past it, and re-delivers from there on restart', async () => {
    const first = new Collector();
    first.fail = (events) => events.some((e) => e.version === 6n)
      ? new RelayError('refused for the test', { code: 'TEST_REFUSED' }) : undefined;
    const a = await startTestRelay(db, { apply: first.apply, relayName: 'fatal', maxBatchEvents: 1 });
    await writeEvents('f', 1, 10);
    await expect(a.relay.done).rejects.toMatchObject({ code: 'TEST_REFUSED' });
    expect(versionsOf(first, 'f')).toEqual([1, 2, 3, 4, 5]);

    const second = new Collector();
    const b = await startTestRelay(db, { apply: second.apply, relayName: 'fatal' });
    try {
      await waitUntil('the rest', () => versionsOf(second, 'f').includes(10));
      // Everything from the refused event on arrives; at most already-applied events repeat.
      expect(versionsOf(second, 'f').filter((v) => v >= 6)).toEqual([6, 7, 8, 9, 10]);
      expect(new Set([...versionsOf(first, 'f'), ...versionsOf(second, 'f')]).size).toBe(10);
    } finally {
      await b.stop();
    }
  });

  it('retries a retriable apply error (Redis down) with the same batch, in order', async () => {
    const collector = new Collector();
    const attempts: string[][] = [];
    collector.fail = (events, call) => {
      attempts.push(events.map((e) => e.id));
      return call <= 3 ? new ScriptError('redis down', { code: 'REDIS_UNAVAILABLE', retriable: true }) : undefined;
    };
    const { stop } = await startTestRelay(db, { apply: collector.apply, relayName: 'retry' });
    try {
      await writeEvents('t', 1, 5);
      await waitUntil('all five', () => collector.events.length >= 5);
      expect(versionsOf(collector, 't')).toEqual([1, 2, 3, 4, 5]);
      // The failed batch was retried unchanged before anything after it.
      expect(attempts[1]).toEqual(attempts[0]);
    } finally {
      await stop();
    }
  });

  it('abandons a batch that is waiting to retry when stopped, without storing its position', async () => {
    const collector = new Collector();
    let failing = true;
    collector.fail = () => (failing ? new ScriptError('redis down', { code: 'REDIS_UNAVAILABLE', retriable: true }) : undefined);
    const a = await startTestRelay(db, { apply: collector.apply, relayName: 'abandon', retryDelays: { initialDelayMs: 50, maxDelayMs: 50 } });
    await writeEvents('x', 1, 1);
    await waitUntil('a failed attempt', () => collector.calls >= 2);
    await a.stop();
    expect(versionsOf(collector, 'x')).toEqual([]);

    failing = false;
    const b = await startTestRelay(db, { apply: collector.apply, relayName: 'abandon' });
    try {
      // Only possible if the stored position is still before the abandoned event.
      await waitUntil('the abandoned event', () => versionsOf(collector, 'x').includes(1));
    } finally {
      await b.stop();
    }
  });

  it('stores the position periodically while only other tables change', async () => {
    const collector = new Collector();
    const { stop } = await startTestRelay(db, { apply: collector.apply, relayName: 'idle', checkpointIntervalMs: 50 });
    try {
      await db.pool.query('CREATE TABLE IF NOT EXISTS busy (id INT PRIMARY KEY)');
      const before = await storedPosition('idle');
      await db.pool.query('INSERT INTO busy VALUES (1)');
      // Keeps the stored file from being purged while the outbox is quiet (see relay-loop.test.ts
      // for the relay not feeding on its own checkpoint writes).
      await waitUntil('position moved past the other table\'s write', async () =>
        ((await storedPosition('idle'))?.position ?? 0) > (before?.position ?? Infinity));
      expect(collector.events).toEqual([]);
    } finally {
      await stop();
    }
  });

  it('refuses bad options before touching the server, listing every problem', async () => {
    const refused = startTestRelay(db, { apply: new Collector().apply, relayName: 'bad name', table: 'a-b', maxBatchEvents: 0, heartbeatMs: -1 });
    await expect(refused).rejects.toBeInstanceOf(ConfigError);
    await expect(refused).rejects.toMatchObject({
      problems: ['table', 'relayName', 'maxBatchEvents', 'heartbeatMs'].map((setting) => expect.objectContaining({ setting })),
    });
  });

  it('refuses a second relay with the same name while the first runs', async () => {
    const a = await startTestRelay(db, { apply: new Collector().apply, relayName: 'single' });
    try {
      await expect(startTestRelay(db, { apply: new Collector().apply, relayName: 'single' }))
        .rejects.toMatchObject({ code: 'RELAY_ALREADY_RUNNING' });
    } finally {
      await a.stop();
    }
    const b = await startTestRelay(db, { apply: new Collector().apply, relayName: 'single' });
    await b.stop();
  });

  it('fails clearly when the stored binlog file no longer exists or belongs to another server', async () => {
    const [[{ id }]] = (await db.pool.query('SELECT @@server_id AS id')) as unknown as [[{ id: number }]];
    await new MySqlPositionStore(db.pool, db.name).ensureTable();
    await db.pool.query(
      'INSERT INTO outbox_relay_position VALUES (?, ?, ?, ?, UTC_TIMESTAMP(3)), (?, ?, ?, ?, UTC_TIMESTAMP(3))',
      ['purged', 'binlog.999999', 4, id, 'elsewhere', 'binlog.000001', 4, id + 1]);
    const purged = startTestRelay(db, { apply: new Collector().apply, relayName: 'purged' });
    await expect(purged).rejects.toMatchObject({ code: 'RELAY_POSITION_LOST', retriable: false });
    await expect(purged).rejects.toThrow(/no longer has binlog file binlog\.999999/);
    await expect(startTestRelay(db, { apply: new Collector().apply, relayName: 'elsewhere' }))
      .rejects.toMatchObject({ code: 'RELAY_POSITION_OTHER_SERVER' });
    // A refused start releases its lock.
    await expect(startTestRelay(db, { apply: new Collector().apply, relayName: 'purged' })).rejects.toMatchObject({ code: 'RELAY_POSITION_LOST' });
  });

  it('runs with only the documented privileges and reconnects when its binlog connection is killed', async () => {
    const user = `relay_${uniqueSuffix()}`;
    const root = await createConnection(inject('mysqlUrl'));
    try {
      await root.query(`CREATE USER '${user}'@'%' IDENTIFIED BY 'pw'`);
      await root.query(`GRANT REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO '${user}'@'%'`);
      await root.query(`GRANT SELECT ON \`${db.name}\`.outbox TO '${user}'@'%'`);
      await root.query(`GRANT SELECT, INSERT, UPDATE, CREATE ON \`${db.name}\`.outbox_relay_position TO '${user}'@'%'`);
      const url = new URL(inject('mysqlUrl'));
      url.username = user;
      url.password = 'pw';
      url.pathname = `/${db.name}`;
      const pool = createPool({ uri: url.toString(), connectionLimit: 3 });
      const collector = new Collector();
      const { stop, relay } = await startTestRelay(db, {
        apply: collector.apply, relayName: 'privileged', pool, connection: { uri: url.toString() },
      });
      try {
        await writeEvents('k', 1, 3);
        await waitUntil('before the kill', () => versionsOf(collector, 'k').includes(3));
        const [dumps] = await root.query<RowDataPacket[]>(
          "SELECT ID FROM information_schema.PROCESSLIST WHERE USER = ? AND COMMAND LIKE 'Binlog Dump%'", [user]);
        expect(dumps).toHaveLength(1);
        await root.query(`KILL ${Number(dumps[0]?.ID)}`);
        await writeEvents('k', 4, 3);
        await waitUntil('after the kill', () => versionsOf(collector, 'k').includes(6));
        expect(relay.stats().reconnects).toBeGreaterThanOrEqual(1);
        expect([...new Set(versionsOf(collector, 'k'))]).toEqual([1, 2, 3, 4, 5, 6]);
      } finally {
        await stop();
        await pool.end();
      }
    } finally {
      await root.query(`DROP USER IF EXISTS '${user}'@'%'`);
      await root.end();
    }
  });
});
