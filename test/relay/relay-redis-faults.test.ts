/**
 * `runRelayFromConfig` in redis mode against a Redis of its own that refuses writes for a server
 * reason (MISCONF: its snapshot failed): the relay pauses, stores no position past the refused
 * events, skips nothing and answers /readyz 503; once the operator fixes Redis it applies
 * everything. A key holding a foreign Redis type (WRONGTYPE) is the one poison: that event is
 * logged with its id and key (never its payload), counted, and the relay moves on. Metrics and
 * /readyz are read from the relay's own ops server.
 */
import { Writable } from 'node:stream';
import avro from 'avsc';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import type { RowDataPacket } from 'mysql2/promise';
import { decodeStoredValue } from '../../src/cache/stored-value.js';
import { CACHE_CHANGE_SCHEMA_V1 } from '../../src/codec/cache-change.js';
import { encodeFrame } from '../../src/codec/framing.js';
import { startRedis, type LocalRedis } from '../../src/local-servers/index.js';
import { createLogger } from '../../src/ops/logger.js';
import { outboxSubject } from '../../src/outbox/event.js';
import { runRelayFromConfig } from '../../src/relay/from-config.js';
import { parseRunConfig } from '../../src/relay/run-config.js';
import { startSchemaRegistryDouble, type SchemaRegistryDouble } from '../registry-double/schema-registry-double.js';
import { waitUntil, type TestDatabase } from '../helpers.js';
import { createOutboxDatabase, insertOutboxRow } from './relay-helpers.js';

const SCHEMA_ID = 303;
const cacheChange = avro.Type.forSchema(CACHE_CHANGE_SCHEMA_V1 as avro.Schema);
let server: LocalRedis;
let operator: Redis;
let registry: SchemaRegistryDouble;
let db: TestDatabase;

beforeAll(async () => {
  // CONFIG SET dir is a protected setting since Redis 7.
  [server, registry, db] = await Promise.all([
    startRedis({ extraArgs: ['--enable-protected-configs', 'yes'] }),
    startSchemaRegistryDouble({ preload: [{ id: SCHEMA_ID, subject: outboxSubject('item'), schema: CACHE_CHANGE_SCHEMA_V1 }] }),
    createOutboxDatabase('relay_refusals'),
  ]);
  operator = new Redis(server.url);
});
afterAll(async () => {
  operator?.disconnect();
  await Promise.allSettled([registry?.close(), server?.stop(), db?.drop()]);
});

async function write(id: string, version: number, secret = 'secret-payload'): Promise<string> {
  const payload = encodeFrame(SCHEMA_ID, cacheChange.toBuffer({
    entity: 'item', id, version, operation: 'UPSERT', value: Buffer.from(secret), extraKeys: [], occurredAt: Date.now(),
  }));
  return insertOutboxRow(db.pool, { aggregateType: 'item', aggregateId: id, type: 'ItemChanged', version, payload });
}

async function versionOf(id: string): Promise<bigint | undefined> {
  const stored = decodeStoredValue(await operator.getBuffer(`item:${id}`));
  return stored?.state === 'entry' ? stored.version : undefined;
}

async function storedPosition(): Promise<string> {
  const [rows] = await db.pool.query<RowDataPacket[]>('SELECT binlog_file AS f, binlog_position AS p FROM outbox_relay_position WHERE relay_name = ?', ['refusals']);
  return `${String(rows[0]?.f)}:${String(rows[0]?.p)}`;
}

async function scrape(port: number): Promise<{ ready: number; text: string; metric(name: string): number }> {
  const [ready, text] = await Promise.all([
    fetch(`http://127.0.0.1:${port}/readyz`).then((r) => r.status),
    fetch(`http://127.0.0.1:${port}/metrics`).then((r) => r.text()),
  ]);
  const metric = (name: string) => [...text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.e+-]+)`, 'gm'))].reduce((s, m) => s + Number(m[1]), 0);
  return { ready, text, metric };
}

async function lastBgsave(): Promise<string | undefined> {
  const info = await operator.info('persistence');
  if (/rdb_bgsave_in_progress:1/.test(info)) return undefined;
  return /rdb_last_bgsave_status:(\w+)/.exec(info)?.[1];
}

it('pauses on MISCONF without moving its position or skipping, resumes when fixed, and skips only a WRONGTYPE key', async () => {
  const logs: string[] = [];
  const logger = createLogger({ level: 'info', destination: new Writable({ write(chunk, _enc, done) { logs.push(String(chunk)); done(); } }) });
  const config = parseRunConfig({
    MYSQL_URL: db.url, REDIS_URL: server.url, SCHEMA_REGISTRY_URL: registry.url, RELAY_NAME: 'refusals',
    METRICS_PORT: '0', METRICS_HOST: '127.0.0.1', RELAY_RETRY_MAX_DELAY_MS: '200', RELAY_CHECKPOINT_INTERVAL_MS: '50',
  });
  const controller = new AbortController();
  let port = 0;
  let started = false;
  const running = runRelayFromConfig(config, { signal: controller.signal, logger, onListening: (p) => (port = p), onStarted: () => (started = true) });
  running.catch(() => {});
  const ids = ['a', 'b', 'c'];
  let dir = '';
  try {
    await waitUntil('relay started', () => started);
    for (const id of ids) await write(id, 1);
    await waitUntil('first versions applied', async () => (await Promise.all(ids.map(versionOf))).every((v) => v === 1n));
    await waitUntil('ready', async () => (await scrape(port)).ready === 200);
    await waitUntil('position stored after the first versions', async () => (await scrape(port)).metric('outbox_relay_events_applied_total') === 3);

    dir = ((await operator.config('GET', 'dir')) as string[])[1] ?? '';
    await operator.config('SET', 'save', '3600 1');
    await operator.config('SET', 'stop-writes-on-bgsave-error', 'yes');
    await operator.config('SET', 'dir', '/proc');
    await operator.bgsave();
    await waitUntil('a failed background save', async () => (await lastBgsave()) === 'err');
    await waitUntil('position settled', async () => {
      const before = await storedPosition();
      await new Promise((resolve) => setTimeout(resolve, 200));
      return before === (await storedPosition());
    });
    const positionBefore = await storedPosition();
    for (const id of ids) await write(id, 2);
    const retriesBefore = (await scrape(port)).metric('outbox_relay_retries_total');
    await waitUntil('retrying on MISCONF', async () => (await scrape(port)).metric('outbox_relay_retries_total') >= retriesBefore + 3);
    const during = await scrape(port);
    expect(during.ready).toBe(503);
    expect(during.metric('outbox_relay_events_skipped_total')).toBe(0);
    expect(await storedPosition()).toBe(positionBefore);
    expect(await Promise.all(ids.map(versionOf))).toEqual([1n, 1n, 1n]);

    await operator.config('SET', 'dir', dir);
    await operator.bgsave();
    await waitUntil('a good background save', async () => (await lastBgsave()) === 'ok');
    await waitUntil('everything applied once fixed', async () => (await Promise.all(ids.map(versionOf))).every((v) => v === 2n), 30_000);
    await waitUntil('ready again', async () => (await scrape(port)).ready === 200);
    await waitUntil('position moved', async () => (await storedPosition()) !== positionBefore);

    // A key of a foreign type is the event's own problem: skipped, logged by id and key, counted.
    await operator.multi().del('item:b').lpush('item:b', 'not a cache entry').exec();
    const poisonId = await write('b', 3, 'never-logged-payload');
    await write('a', 3);
    await waitUntil('the next event applied', async () => (await versionOf('a')) === 3n);
    // Redis changes a moment before the apply call returns and counts.
    await waitUntil('the skip counted', async () => (await scrape(port)).metric('outbox_relay_events_skipped_total') >= 1);
    const after = await scrape(port);
    expect(after.metric('outbox_relay_events_skipped_total')).toBe(1);
    expect(after.text).toMatch(/outbox_relay_events_skipped_total\{code="CACHE_KEY_WRONG_TYPE"\} 1/);
    const skipped = logs.filter((line) => line.includes('event skipped'));
    expect(skipped).toHaveLength(1);
    expect(skipped[0]).toContain(poisonId);
    expect(skipped[0]).toContain('"aggregateId":"b"');
    expect(logs.join('')).not.toContain('never-logged-payload');
    for (const name of ['outbox_relay_binlog_lag_seconds', 'outbox_relay_binlog_lag_bytes', 'outbox_relay_reconnects_total',
      'outbox_relay_position_offset', 'outbox_relay_batches_total', 'outbox_relay_events_stale_total']) {
      expect(after.text).toContain(name);
    }
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
  } finally {
    if (dir) await operator.config('SET', 'dir', dir).catch(() => {});
    controller.abort();
    await running;
  }
}, 90_000);
