/**
 * Peak memory of the embedded relay (redis mode) while it applies one huge transaction: a
 * MariaDB and a Redis started here, one transaction of BENCH_EVENTS (default 300,000) outbox
 * rows whose CacheChange payloads carry BENCH_VALUE_BYTES (default 512) of value each, and the
 * relay (sink apply step, default mapping, default batch and queue sizes) in a child process of
 * its own, so that its peak RSS (`VmHWM` of /proc/<pid>/status) is the relay's alone.
 *
 * The relay streams a transaction that can only commit in chunks of RELAY_BATCH_SIZE events and
 * stops reading the binlog above its queue bound, so its memory does not grow with the
 * transaction. Target: peak RSS ≤ 512 MB for 300,000 events of 512 bytes. Last output line:
 * {"bench":"relay-rss","events":…,"value_bytes":…,"peak_rss_mb":…,"apply_s":…,"batches":…}.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import avro from 'avsc';
import { createConnection, createPool } from 'mysql2/promise';
import { Redis } from 'ioredis';
import { RedisCacheWriter } from '../src/cache/redis-cache-writer.js';
import { CACHE_CHANGE_SCHEMA_V1 } from '../src/codec/cache-change.js';
import { AvroCodec } from '../src/codec/codec.js';
import { encodeFrame } from '../src/codec/framing.js';
import { LocalSchemaRegistry } from '../src/demo/local-registry.js';
import { SHIPPED_AVRO_DIR } from '../src/demo/package-root.js';
import { startMariaDb, startRedis } from '../src/local-servers/index.js';
import { outboxSubject } from '../src/outbox/event.js';
import { migrateOutbox } from '../src/outbox/migrate.js';
import { startRelay } from '../src/relay/index.js';
import { createApplyStep } from '../src/sink/apply-step.js';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 300_000);
const VALUE_BYTES = Number(process.env.BENCH_VALUE_BYTES ?? 512);
const AGGREGATE = 'product';

/** The child: runs the relay until it applied `EVENTS` events, then reports its peak RSS. */
async function child(mysqlUri: string, redisUrl: string): Promise<void> {
  const pool = createPool({ uri: mysqlUri, connectionLimit: 3, timezone: 'Z', supportBigNumbers: true });
  const redis = new Redis(redisUrl);
  const step = createApplyStep({
    decoder: new AvroCodec({ registry: await LocalSchemaRegistry.fromDirectory(SHIPPED_AVRO_DIR) }),
    writer: new RedisCacheWriter({ redis }),
  });
  const controller = new AbortController();
  let applied = 0;
  let batches = 0;
  let first = 0;
  const relay = await startRelay({
    pool, connection: { uri: mysqlUri }, database: 'bench', relayName: 'rss', signal: controller.signal,
    apply: async (events) => {
      first ||= Date.now();
      await step(events);
      applied += events.length;
      batches += 1;
      if (applied >= EVENTS) controller.abort();
    },
  });
  process.send?.({ kind: 'started' });
  await relay.done;
  const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
  process.send?.({ kind: 'done', applied, batches, peakRssMb: Math.round(Number(hwm) / 1024), applyS: (Date.now() - first) / 1000 });
  redis.disconnect();
  await pool.end();
}

async function main(): Promise<void> {
  const [mariadb, redisServer] = await Promise.all([startMariaDb(), startRedis()]);
  try {
    const admin = await createConnection({ uri: mariadb.url });
    await admin.query('CREATE DATABASE bench');
    await admin.query('SET GLOBAL max_allowed_packet = 256 * 1024 * 1024');
    await admin.end();
    const uri = `${mariadb.url}bench`;
    const pool = createPool({ uri, connectionLimit: 2, timezone: 'Z', supportBigNumbers: true });
    const setup = await pool.getConnection();
    await migrateOutbox(setup);
    setup.release();
    const registry = await LocalSchemaRegistry.fromDirectory(SHIPPED_AVRO_DIR);
    const schemaId = registry.latestId(outboxSubject(AGGREGATE));
    if (schemaId === undefined) throw new Error('no shipped schema for the product subject');

    const relay = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), 'child', uri, redisServer.url], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const messages: { kind: string; [k: string]: unknown }[] = [];
    const waitFor = (kind: string) => new Promise<Record<string, unknown>>((resolve, reject) => {
      const found = messages.find((m) => m.kind === kind);
      if (found) return resolve(found);
      relay.on('message', (m: { kind: string }) => m.kind === kind && resolve(m as Record<string, unknown>));
      relay.once('exit', (code) => reject(new Error(`relay exited with ${code}`)));
    });
    relay.on('message', (m: { kind: string }) => void messages.push(m));
    await waitFor('started');

    const type = avro.Type.forSchema(CACHE_CHANGE_SCHEMA_V1 as avro.Schema);
    const value = Buffer.alloc(VALUE_BYTES, 0x61);
    const conn = await pool.getConnection();
    const started = Date.now();
    await conn.beginTransaction();
    for (let from = 0; from < EVENTS; from += 1_000) {
      const rows: unknown[][] = [];
      for (let i = from; i < Math.min(EVENTS, from + 1_000); i++) {
        const payload = encodeFrame(schemaId, type.toBuffer({
          entity: AGGREGATE, id: String(i), version: 1, operation: 'UPSERT', value, extraKeys: [], occurredAt: Date.now(),
        }));
        rows.push([`rss-${String(i).padStart(32, '0')}`, AGGREGATE, String(i), 'ProductChanged', '1', '2026-01-01 00:00:00.000', payload]);
      }
      await conn.query('INSERT INTO outbox (id, aggregatetype, aggregateid, type, version, occurred_at, payload) VALUES ?', [rows]);
    }
    await conn.commit();
    conn.release();
    process.stderr.write(`committed ${EVENTS} events in one transaction in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
    const done = await waitFor('done');
    await pool.end();
    process.stdout.write(`${JSON.stringify({
      bench: 'relay-rss', events: done.applied, value_bytes: VALUE_BYTES, peak_rss_mb: done.peakRssMb, apply_s: done.applyS, batches: done.batches,
    })}\n`);
  } finally {
    await Promise.allSettled([mariadb.stop(), redisServer.stop()]);
  }
}

if (process.argv[2] === 'child') {
  await child(process.argv[3] ?? '', process.argv[4] ?? '');
} else {
  await main();
}
