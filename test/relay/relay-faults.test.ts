/**
 * The relay under network and server faults on a real MariaDB: a binlog path that freezes (NAT
 * idle timeout: open, silent) is noticed through replication heartbeats and reopened; a stop
 * with every connection frozen finishes within seconds; rotations move the stored position while
 * the outbox is quiet; the one-relay lock survives losing its connection and never lets a second
 * relay stream beside the first.
 */
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { createConnection, type RowDataPacket } from 'mysql2/promise';
import { relayLockName } from '../../src/relay/relay-lock.js';
import { waitUntil, type TestDatabase } from '../helpers.js';
import { Collector, createOutboxDatabase, insertOutboxRow, startTestRelay } from './relay-helpers.js';
import { startTcpProxy, throughProxy, type TcpProxy } from './tcp-proxy.js';

let db: TestDatabase;
const proxies: TcpProxy[] = [];
beforeAll(async () => {
  db = await createOutboxDatabase('relay_faults');
});
afterEach(async () => {
  for (const proxy of proxies.splice(0)) await proxy.close();
});
afterAll(async () => db?.drop());

async function writeEvents(aggregateId: string, from: number, count: number): Promise<void> {
  for (let v = from; v < from + count; v++) await insertOutboxRow(db.pool, { aggregateId, version: v });
}

const versionsOf = (c: Collector, aggregateId: string) =>
  [...new Set(c.events.filter((e) => e.aggregateId === aggregateId).map((e) => Number(e.version)))];

async function storedFile(relayName: string): Promise<string | undefined> {
  const [rows] = await db.pool.query<RowDataPacket[]>('SELECT binlog_file AS file FROM outbox_relay_position WHERE relay_name = ?', [relayName]);
  return rows[0] ? String(rows[0].file) : undefined;
}

/** A pool, binlog connection and lock connection that all go through a freezable proxy. */
async function proxiedRelay(relayName: string, collector: Collector) {
  const target = new URL(inject('mysqlUrl'));
  const proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port) });
  proxies.push(proxy);
  const url = throughProxy(db.url, proxy);
  const { createPool } = await import('mysql2/promise');
  const pool = createPool({ uri: url, connectionLimit: 3, connectTimeout: 1_000 });
  const started = await startTestRelay(db, {
    apply: collector.apply, relayName, pool, connection: { uri: url, connectTimeout: 1_000 },
    heartbeatMs: 200, lockCheckIntervalMs: 300, queryTimeoutMs: 1_000, checkpointIntervalMs: 50,
  });
  return { ...started, proxy, pool };
}

describe('relay faults', () => {
  it('notices a frozen binlog path through heartbeats, pauses, and resumes from the last boundary once it thaws', async () => {
    const collector = new Collector();
    const { relay, proxy, pool, stop } = await proxiedRelay('frozen', collector);
    try {
      await writeEvents('f', 1, 3);
      await waitUntil('before the freeze', () => versionsOf(collector, 'f').length === 3);
      proxy.freeze();
      await waitUntil('silence noticed', () => relay.stats().streamLosses >= 1, 10_000);
      expect(relay.stats().state).toBe('paused');
      await writeEvents('f', 4, 3);
      proxy.thaw();
      await waitUntil('events committed during the freeze', () => versionsOf(collector, 'f').length === 6, 30_000);
      expect(versionsOf(collector, 'f')).toEqual([1, 2, 3, 4, 5, 6]);
      expect(relay.stats().reconnects).toBeGreaterThanOrEqual(1);
      await waitUntil('streaming again', () => relay.stats().state === 'streaming');
    } finally {
      await stop();
      await pool.end();
    }
  });

  it('stops within a few seconds when every connection is frozen', async () => {
    const collector = new Collector();
    const { relay, proxy, pool, controller } = await proxiedRelay('frozen_stop', collector);
    await writeEvents('s', 1, 2);
    await waitUntil('applied', () => versionsOf(collector, 's').length === 2);
    proxy.freeze();
    await writeEvents('s', 3, 2);
    const started = Date.now();
    controller.abort();
    await relay.done;
    expect(Date.now() - started).toBeLessThan(5_000);
    pool.end().catch(() => {});
  });

  it('moves the stored position to a new binlog file while the outbox is quiet', async () => {
    const collector = new Collector();
    const { stop } = await startTestRelay(db, { apply: collector.apply, relayName: 'quiet', heartbeatMs: 200, checkpointIntervalMs: 50 });
    try {
      const before = await storedFile('quiet');
      await db.pool.query('FLUSH BINARY LOGS');
      const [logs] = await db.pool.query<RowDataPacket[]>('SHOW BINARY LOGS');
      const last = String(logs.at(-1)?.Log_name);
      expect(last).not.toBe(before);
      await waitUntil('position stored in the new file', async () => {
        const file = await storedFile('quiet');
        return file !== undefined && file >= last;
      });
      expect(collector.events).toEqual([]);
    } finally {
      await stop();
    }
  });

  it('retakes its lock after the lock\'s connection is killed, so a second relay with its name is refused', async () => {
    const first = new Collector();
    const a = await startTestRelay(db, { apply: first.apply, relayName: 'locked', lockCheckIntervalMs: 200 });
    const root = await createConnection(inject('mysqlUrl'));
    try {
      const name = relayLockName(db.name, 'locked');
      const [[holder]] = (await root.query('SELECT IS_USED_LOCK(?) AS id', [name])) as unknown as [[{ id: number }]];
      expect(holder?.id).toBeGreaterThan(0);
      await root.query(`KILL ${Number(holder?.id)}`);
      await waitUntil('lock retaken', async () => {
        const [[now]] = (await root.query('SELECT IS_USED_LOCK(?) AS id', [name])) as unknown as [[{ id: number | null }]];
        return now?.id !== null && now?.id !== holder?.id;
      });
      await expect(startTestRelay(db, { apply: new Collector().apply, relayName: 'locked' }))
        .rejects.toMatchObject({ code: 'RELAY_ALREADY_RUNNING' });
      await writeEvents('l', 1, 2);
      await waitUntil('first relay still applies', () => versionsOf(first, 'l').length === 2);
    } finally {
      await a.stop();
      await root.end();
    }
  });

  it('stops with RELAY_LOCK_LOST when another session took the lock after its connection died', async () => {
    const first = new Collector();
    const a = await startTestRelay(db, { apply: first.apply, relayName: 'stolen', lockCheckIntervalMs: 200 });
    const root = await createConnection(inject('mysqlUrl'));
    const thief = await createConnection(inject('mysqlUrl'));
    try {
      const name = relayLockName(db.name, 'stolen');
      const [[holder]] = (await root.query('SELECT IS_USED_LOCK(?) AS id', [name])) as unknown as [[{ id: number }]];
      // Queued on the lock before it is freed: the server hands it over at once.
      const waiting = thief.query('SELECT GET_LOCK(?, 30) AS got', [name]);
      await waitUntil('thief waiting', async () => {
        const [rows] = await root.query<RowDataPacket[]>("SELECT 1 FROM information_schema.PROCESSLIST WHERE INFO LIKE 'SELECT GET_LOCK(%, 30)%'");
        return rows.length > 0;
      });
      await root.query(`KILL ${Number(holder?.id)}`);
      const [[got]] = (await waiting) as unknown as [[{ got: number }]];
      expect(got?.got).toBe(1);
      await expect(a.relay.done).rejects.toMatchObject({ code: 'RELAY_LOCK_LOST' });
      await writeEvents('t', 1, 1);
      const marker = new Collector();
      thief.destroy();
      const b = await startTestRelay(db, { apply: marker.apply, relayName: 'stolen' });
      await writeEvents('t', 2, 1);
      await waitUntil('second relay streams', () => versionsOf(marker, 't').includes(2));
      await b.stop();
      expect(versionsOf(first, 't')).toEqual([]);
    } finally {
      a.controller.abort();
      await root.end();
    }
  });
});
