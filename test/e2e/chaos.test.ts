/**
 * Chaos: concurrent writers commit versioned product updates with their outbox events to a
 * MariaDB of this file's own; `outbox-cache run` (kafka mode, through a TCP proxy) relays them to
 * the mock Kafka cluster; `outbox-cache sink` applies them to a Redis of this file's own; guarded
 * readers read through the leases with a loader on MariaDB. Meanwhile a fault schedule kills the
 * relay and the sink with SIGKILL, kills and restarts Redis (empty) and MariaDB (same data dir),
 * freezes the relay's TCP path to MariaDB, and makes Redis refuse writes (MISCONF). After each
 * fault the whole pipeline must catch up; at the end every committed version reached Kafka, every
 * key is missing, a lease, or exactly at the database's version and bytes, every value a reader
 * got was one committed at its version, and nothing was dead-lettered.
 *
 * CHAOS_DURATION_MS (default 75000) is how long new faults are injected; every kind is injected
 * at least once whatever the duration. CHAOS_VERBOSE=1 prints the end of the relay's and the
 * sink's output too.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { Redis } from 'ioredis';
import type { Admin } from 'kafkajs';
import { createConnection, createPool, type Pool, type RowDataPacket } from 'mysql2/promise';
import { createReadThrough } from '../../src/cache/read-through.js';
import { CACHE_CHANGE_SCHEMA_V1 } from '../../src/codec/cache-change.js';
import { AvroCodec } from '../../src/codec/codec.js';
import { SchemaRegistryClient } from '../../src/codec/registry-client.js';
import type { WriterSchema } from '../../src/codec/types.js';
import { ensureProducts, loadProduct, productKey, type ProductValue } from '../../src/demo/product-table.js';
import { startMariaDb, startRedis, type LocalMariaDb, type LocalRedis } from '../../src/local-servers/index.js';
import { freePort } from '../../src/local-servers/process.js';
import { outboxSubject, outboxTopic } from '../../src/outbox/event.js';
import { migrateOutbox } from '../../src/outbox/migrate.js';
import { createTestKafka, uniqueName, uniqueSuffix, waitUntil } from '../helpers.js';
import { startSchemaRegistryDouble, type SchemaRegistryDouble } from '../registry-double/schema-registry-double.js';
import { startTcpProxy, type TcpProxy } from '../relay/tcp-proxy.js';
import { committedOffsets, endOffsets } from '../sink/harness.js';
import { ChaosLedger, CliProcess, keyProblems, killAllChildren, runChaosReaders, runChaosWriters, watchTopic, writeProduct } from './chaos-helpers.js';

const DURATION_MS = Number(process.env.CHAOS_DURATION_MS ?? 75_000);
const IDS = Array.from({ length: 12 }, (_, i) => i + 1);
const AGGREGATE = `chaos_${uniqueSuffix()}`;
const TOPIC = outboxTopic(AGGREGATE);
const PREFIX = `chaos:${uniqueSuffix()}:`;
const DLQ = uniqueName('chaos-dlq');
const GROUP = uniqueName('chaos-sink');
const REDIS_ARGS = ['--enable-protected-configs', 'yes'];
const kafka = createTestKafka();

let dir: string;
let mariaPort: number;
let maria: LocalMariaDb | undefined;
let redisPort: number;
let redisServer: LocalRedis | undefined;
let proxy: TcpProxy | undefined;
let registry: SchemaRegistryDouble | undefined;
let admin: Admin | undefined;
let url: string;
let writerPool: Pool;
let readerPool: Pool;
let readerRedis: Redis;
let operator: Redis;
const stopWriters = new AbortController();
const stopReaders = new AbortController();
const cleanups: (() => Promise<unknown>)[] = [];

function redisClient(): Redis {
  const client = new Redis(redisPort, '127.0.0.1', { maxRetriesPerRequest: 1, retryStrategy: (n) => Math.min(50 * n, 500) });
  client.on('error', () => {});
  return client;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'outbox-cache-chaos-'));
  [mariaPort, redisPort] = await Promise.all([freePort(), freePort()]);
  [maria, redisServer, registry] = await Promise.all([
    startMariaDb({ dir, port: mariaPort }),
    startRedis({ port: redisPort, extraArgs: REDIS_ARGS }),
    startSchemaRegistryDouble({ preload: [{ id: 4301, subject: outboxSubject(AGGREGATE), schema: CACHE_CHANGE_SCHEMA_V1 }] }),
  ]);
  const conn = await createConnection(maria.url);
  await conn.query('CREATE DATABASE chaos');
  await conn.query('USE chaos');
  await migrateOutbox(conn);
  await conn.end();
  url = `mysql://root@127.0.0.1:${mariaPort}/chaos`;
  const poolOptions = { uri: url, timezone: 'Z', supportBigNumbers: true, connectTimeout: 2_000 } as const;
  writerPool = createPool({ ...poolOptions, connectionLimit: 8 });
  readerPool = createPool({ ...poolOptions, connectionLimit: 4 });
  await ensureProducts(writerPool, IDS.length);
  proxy = await startTcpProxy({ host: '127.0.0.1', port: mariaPort });
  readerRedis = redisClient();
  operator = redisClient();
  admin = kafka.admin();
  await admin.connect();
}, 180_000);

afterAll(async () => {
  stopWriters.abort();
  stopReaders.abort();
  await killAllChildren();
  for (const cleanup of cleanups) await cleanup().catch(() => {});
  readerRedis?.disconnect();
  operator?.disconnect();
  await Promise.allSettled([admin?.disconnect(), registry?.close(), proxy?.close(), writerPool?.end(), readerPool?.end()]);
  await Promise.allSettled([redisServer?.stop(1_000), maria?.stop(5_000)]);
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 60_000);

async function hasPosition(relayName: string): Promise<boolean> {
  const [rows] = await writerPool.query<RowDataPacket[]>(
    "SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'chaos' AND TABLE_NAME = 'outbox_relay_position'");
  if (rows.length === 0) return false;
  const [stored] = await writerPool.query<RowDataPacket[]>('SELECT 1 FROM outbox_relay_position WHERE relay_name = ?', [relayName]);
  return stored.length > 0;
}

async function lastBgsave(): Promise<string | undefined> {
  const info = await operator.info('persistence');
  if (/rdb_bgsave_in_progress:1/.test(info)) return undefined;
  return /rdb_last_bgsave_status:(\w+)/.exec(info)?.[1];
}

/** Status of the sink's /readyz (0 when it does not answer): 503 while a partition is paused on an outage. */
async function readyz(port: number): Promise<number> {
  try {
    return (await fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(2_000) })).status;
  } catch {
    return 0;
  }
}

async function topicHasRecords(): Promise<boolean> {
  return [...(await endOffsets(admin as Admin, TOPIC)).values()].some((end) => end > 0n);
}

it('keeps Redis consistent with MariaDB through relay, sink, Redis and MariaDB crashes, a frozen path and MISCONF', async () => {
  const started = Date.now();
  const schema: WriterSchema = await new AvroCodec({ registry: new SchemaRegistryClient({ url: (registry as SchemaRegistryDouble).url, timeoutMs: 2000 }) })
    .writerSchema(outboxSubject(AGGREGATE));
  const ledger = new ChaosLedger();
  await ledger.seed(writerPool);
  const brokers = inject('kafkaBrokers').join(',');
  const relayUrl = `mysql://root@127.0.0.1:${(proxy as TcpProxy).port}/chaos`;
  const relay = new CliProcess('relay', ['run'], {
    MYSQL_URL: relayUrl, RELAY_MODE: 'kafka', KAFKA_BROKERS: brokers, RELAY_NAME: 'chaos', RELAY_CHECKPOINT_INTERVAL_MS: '200',
    RELAY_HEARTBEAT_MS: '1000', RELAY_RETRY_MAX_DELAY_MS: '500', RELAY_LOCK_CHECK_INTERVAL_MS: '1000', RELAY_QUERY_TIMEOUT_MS: '3000',
    METRICS_PORT: '0', METRICS_HOST: '127.0.0.1', LOG_LEVEL: 'warn',
  });
  const sinkPort = await freePort();
  const sinkPaused = async (): Promise<boolean> => (await readyz(sinkPort)) === 503;
  const sink = new CliProcess('sink', ['sink'], {
    KAFKA_BROKERS: brokers, KAFKA_TOPICS: TOPIC, KAFKA_GROUP_ID: GROUP, KAFKA_SESSION_TIMEOUT_MS: '6000',
    SCHEMA_REGISTRY_URL: (registry as SchemaRegistryDouble).url, REDIS_URL: `redis://127.0.0.1:${redisPort}`, DLQ_TOPIC: DLQ,
    CACHE_KEY_PREFIX: PREFIX, SINK_RETRY_MAX_DELAY_MS: '500', METRICS_PORT: String(sinkPort), METRICS_HOST: '127.0.0.1', LOG_LEVEL: 'warn',
  });
  const fail = (what: string) => (err: Error): never => {
    throw new Error(`${what}: ${err.message}\n--- relay:\n${relay.output().slice(-1500)}\n--- sink:\n${sink.output().slice(-1500)}`);
  };

  relay.start();
  await waitUntil('the relay stored its first position', () => hasPosition('chaos'), 60_000).catch(fail('relay start'));
  const writing = runChaosWriters({ pool: writerPool, ledger, schema, aggregateType: AGGREGATE, ids: IDS, writers: 4, stop: stopWriters.signal });
  const readers = runChaosReaders({
    redis: readerRedis, pool: readerPool, keyPrefix: PREFIX, aggregateType: AGGREGATE, ids: IDS, readers: 3, ledger, stop: stopReaders.signal,
  });
  cleanups.push(() => writing, () => readers.done);
  await waitUntil('the relay produced to the topic', topicHasRecords, 60_000).catch(fail('relay produce'));
  const watcher = await watchTopic(kafka, TOPIC);
  cleanups.push(() => watcher.stop());
  sink.start();

  const steps: string[] = [];
  /** Waits until every version confirmed so far reached Kafka and the sink committed past it; returns ms taken. */
  const caughtUp = async (what: string): Promise<number> => {
    const from = Date.now();
    const confirmed = ledger.confirmed.slice();
    await waitUntil(`${what}: every confirmed version in Kafka`, () => confirmed.every((v) => watcher.seen.has(v)), 90_000).catch(fail(what));
    steps.push(`${what}: kafka ${Date.now() - from} ms`);
    const ends = await endOffsets(admin as Admin, TOPIC);
    await waitUntil(`${what}: the sink committed up to the end`, async () => {
      const committed = await committedOffsets(admin as Admin, GROUP, TOPIC);
      return [...ends].every(([p, end]) => end === 0n || (committed.get(p) ?? -1n) >= end);
    }, 90_000).catch(fail(what));
    steps.push(`${what}: sink ${Date.now() - from} ms`);
    return Date.now() - from;
  };
  const writesAfter = async (n: number): Promise<void> => {
    const from = ledger.confirmed.length;
    await waitUntil(`${n} more writes`, () => ledger.confirmed.length >= from + n, 60_000);
  };
  // A working pipeline first: faults are injected one at a time, each on a running system.
  await caughtUp('start');

  const faults: Record<string, () => Promise<void>> = {
    'relay SIGKILL': async () => {
      await relay.kill('SIGKILL');
      await writesAfter(15);
      relay.start();
    },
    'sink SIGKILL': async () => {
      await sink.kill('SIGKILL');
      await writesAfter(15);
      sink.start();
    },
    'Redis SIGKILL and restart (empty)': async () => {
      const server = redisServer as LocalRedis;
      process.kill(server.pid, 'SIGKILL');
      await server.stop();
      await writesAfter(10);
      // Held until the sink met the outage (a partition paused, retrying).
      await waitUntil('the sink pausing on the Redis outage', sinkPaused, 60_000);
      redisServer = await startRedis({ port: redisPort, extraArgs: REDIS_ARGS });
    },
    'frozen relay-MariaDB path': async () => {
      const p = proxy as TcpProxy;
      const accepted = p.accepted();
      p.freeze();
      // Held until the relay noticed the silence and tried a new connection (into the frozen path).
      await waitUntil('the relay reconnecting through the frozen path', () => p.accepted() > accepted, 60_000);
      await writesAfter(10);
      p.thaw();
    },
    'MariaDB SIGKILL and restart': async () => {
      const server = maria as LocalMariaDb;
      const errors = ledger.writeErrors;
      process.kill(server.pid, 'SIGKILL');
      await server.stop();
      await waitUntil('writers failing on the dead database', () => ledger.writeErrors >= errors + 4, 30_000);
      maria = await startMariaDb({ dir, port: mariaPort });
    },
    'Redis MISCONF': async () => {
      const saveDir = ((await operator.config('GET', 'dir')) as string[])[1] ?? '';
      await operator.config('SET', 'save', '3600 1');
      await operator.config('SET', 'stop-writes-on-bgsave-error', 'yes');
      await operator.config('SET', 'dir', '/proc');
      await operator.bgsave();
      await waitUntil('a failed background save', async () => (await lastBgsave()) === 'err');
      await writesAfter(10);
      // Held until the sink met the refusal (a partition paused, retrying, nothing dead-lettered).
      await waitUntil('the sink pausing on MISCONF', sinkPaused, 60_000);
      await operator.config('SET', 'dir', saveDir);
      await operator.bgsave();
      await waitUntil('a good background save', async () => (await lastBgsave()) === 'ok');
      await operator.config('SET', 'save', '');
    },
  };
  const injected: Record<string, number> = {};
  const recoveries: number[] = [];
  const recoveryByKind: Record<string, number> = {};
  const kinds = Object.keys(faults);
  for (let i = 0; Date.now() - started < DURATION_MS || i < kinds.length; i++) {
    const kind = kinds[i % kinds.length] as string;
    const t0 = Date.now();
    await (faults[kind] as () => Promise<void>)().catch(fail(kind));
    steps.push(`${kind}: injected for ${Date.now() - t0} ms`);
    injected[kind] = (injected[kind] ?? 0) + 1;
    const recovery = await caughtUp(`after ${kind}`);
    recoveries.push(recovery);
    recoveryByKind[kind] = Math.max(recoveryByKind[kind] ?? 0, recovery);
  }

  stopWriters.abort();
  await writing;
  const catchUpMs = await caughtUp('end of the writes');
  stopReaders.abort();
  await readers.done;
  const beforeClosing = await keyProblems(readerRedis, writerPool, PREFIX, AGGREGATE);

  // Closing round: fill every key at its version, then write each once more. A lost last event
  // would leave the filled entry behind the database.
  const cache = createReadThrough<ProductValue>({ redis: readerRedis, codec: 'json', loader: async (key) => loadProduct(readerPool, Number(key.slice(key.lastIndexOf(':') + 1))) });
  for (const id of IDS) await cache.read(productKey(PREFIX, id, AGGREGATE));
  for (const id of IDS) await writeProduct(writerPool, ledger, schema, AGGREGATE, id, `last ${id}`, id % 2 === 0 ? 'upsert' : 'invalidate');
  await caughtUp('closing round');
  const afterClosing = await keyProblems(readerRedis, writerPool, PREFIX, AGGREGATE, true);
  const lost = ledger.confirmed.filter((v) => !watcher.seen.has(v));
  const topics = await (admin as Admin).listTopics();
  const deadLetters = topics.includes(DLQ) ? [...(await endOffsets(admin as Admin, DLQ)).values()].reduce((a, b) => a + b, 0n) : 0n;

  const figures = {
    seconds: Math.round((Date.now() - started) / 1000),
    writes: ledger.confirmed.length, writeErrors: ledger.writeErrors, ambiguousCommits: ledger.ambiguous,
    reads: readers.reads(), readsBySource: readers.bySource(), readErrors: readers.errors(), topicRecords: watcher.records(),
    faults: injected, faultsTotal: Object.values(injected).reduce((a, b) => a + b, 0),
    recoveryMs: { median: recoveries.sort((a, b) => a - b)[Math.floor(recoveries.length / 2)], maxByFault: recoveryByKind },
    catchUpMs, relayStarts: relay.starts, sinkStarts: sink.starts,
    unplannedExits: relay.unplannedExits.length + sink.unplannedExits.length, deadLetters: Number(deadLetters),
  };
  console.log(`chaos figures: ${JSON.stringify(figures)}`);
  console.log(steps.join('\n'));
  if (process.env.CHAOS_VERBOSE) console.log(`--- relay output:\n${relay.output()}\n--- sink output:\n${sink.output()}`);
  for (const exit of [...relay.unplannedExits, ...sink.unplannedExits]) console.log(`unplanned exit (restarted): ${exit}`);

  expect(lost).toEqual([]);
  expect(beforeClosing).toEqual([]);
  expect(afterClosing).toEqual([]);
  expect(readers.mismatches()).toEqual([]);
  expect(deadLetters).toBe(0n);
  expect(ledger.confirmed.length).toBeGreaterThan(100);
  for (const kind of kinds) expect(injected[kind]).toBeGreaterThan(0);
  await sink.kill('SIGTERM');
  await relay.kill('SIGTERM');
}, DURATION_MS + 300_000);
