/**
 * End to end, embedded mode: real MariaDB commits (outbox writer, concurrent writers) → binlog →
 * embedded relay → the sink's apply step → the version guard in Redis, with concurrent guarded
 * readers. The relay is stopped and restarted while writers commit. At the end every committed
 * version was delivered and every cache key is absent, a tombstone, or exactly the database's row.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { createPool, type Pool } from 'mysql2/promise';
import { RedisCacheWriter } from '../../src/cache/redis-cache-writer.js';
import { CACHE_CHANGE_SCHEMA_V1 } from '../../src/codec/cache-change.js';
import { AvroCodec } from '../../src/codec/codec.js';
import { SchemaRegistryClient } from '../../src/codec/registry-client.js';
import { ensureProducts, PRODUCT_AGGREGATE } from '../../src/demo/product-table.js';
import { outboxSubject } from '../../src/outbox/event.js';
import { migrateOutbox } from '../../src/outbox/migrate.js';
import { startRelay, type Relay } from '../../src/relay/index.js';
import { createApplyStep } from '../../src/sink/apply-step.js';
import { startSchemaRegistryDouble, type SchemaRegistryDouble } from '../registry-double/schema-registry-double.js';
import { createTestDatabase, createTestRedis, waitUntil, type TestDatabase } from '../helpers.js';
import { cacheProblems, fillThenWriteEveryKey, Ledger, runReaders, runWriters } from './e2e-helpers.js';

const IDS = [1, 2, 3, 4, 5, 6, 7, 8];
const { redis, prefix } = createTestRedis();
let db: TestDatabase;
let relayPool: Pool;
let registry: SchemaRegistryDouble;

beforeAll(async () => {
  db = await createTestDatabase('e2e_embedded');
  const conn = await db.pool.getConnection();
  await migrateOutbox(conn);
  conn.release();
  await ensureProducts(db.pool, IDS.length);
  // The relay's own pool, as in production: its position writes never queue behind the writers.
  relayPool = createPool({ uri: db.url, connectionLimit: 3, timezone: 'Z', supportBigNumbers: true });
  registry = await startSchemaRegistryDouble({ preload: [{ id: 4101, subject: outboxSubject(PRODUCT_AGGREGATE), schema: CACHE_CHANGE_SCHEMA_V1 }] });
});
afterAll(async () => {
  redis.disconnect();
  await registry?.close();
  await relayPool?.end();
  await db?.drop();
});

describe('embedded mode, MariaDB commit to Redis', () => {
  it('loses nothing across a relay restart and leaves every key absent, a tombstone or exactly the database row', async () => {
    const ledger = new Ledger();
    await ledger.seed(db.pool);
    const writerCodec = new AvroCodec({ registry: new SchemaRegistryClient({ url: registry.url, timeoutMs: 2000 }) });
    const schema = await writerCodec.writerSchema(outboxSubject(PRODUCT_AGGREGATE));
    // The relay decodes with its own codec, as a separate process would.
    const step = createApplyStep({
      decoder: new AvroCodec({ registry: new SchemaRegistryClient({ url: registry.url, timeoutMs: 2000 }) }),
      writer: new RedisCacheWriter({ redis, commandTimeoutMs: 2000 }),
      mapping: { keyPrefix: prefix },
    });
    let poisoned = 0;
    const start = async (): Promise<{ relay: Relay; stop: () => Promise<void> }> => {
      const controller = new AbortController();
      const relay = await startRelay({
        pool: relayPool, connection: { uri: inject('mysqlUrl') }, database: db.name, relayName: 'e2e', signal: controller.signal,
        retryDelays: { initialDelayMs: 5, maxDelayMs: 50 }, checkpointIntervalMs: 100,
        apply: async (events) => {
          const report = await step(events);
          poisoned += report.poisoned.length;
          ledger.deliver(events);
          return report;
        },
      });
      return { relay, stop: async () => (controller.abort(), await relay.done) };
    };

    const first = await start();
    const stopReaders = new AbortController();
    const stopWriters = new AbortController();
    const readers = runReaders({ redis, pool: db.pool, keyPrefix: prefix, aggregateType: PRODUCT_AGGREGATE, ids: IDS, readers: 4, ledger, stop: stopReaders.signal });
    const writing = runWriters({ pool: db.pool, schema, aggregateType: PRODUCT_AGGREGATE, ids: IDS, writers: 4, ledger, stop: stopWriters.signal });
    try {
      await waitUntil('the relay applied some events', () => first.relay.stats().events >= 40);
      await first.stop();
      const stoppedAt = ledger.committedCount;
      // Writers go on while no relay runs; what they commit must arrive after the restart.
      await waitUntil('writes committed while the relay is down', () => ledger.committedCount >= stoppedAt + 30);
      const second = await start();
      try {
        const restartedAt = ledger.deliveredEvents;
        await waitUntil('the restarted relay applied', () => ledger.deliveredEvents >= restartedAt + 60);
        stopWriters.abort();
        await writing;
        await waitUntil('every committed version delivered', () => ledger.undelivered().length === 0, 30_000);
        await waitUntil('readers have read', () => readers.reads() > 100);
        stopReaders.abort();
        await readers.done;
        await fillThenWriteEveryKey({ pool: db.pool, schema, aggregateType: PRODUCT_AGGREGATE, ids: IDS, ledger, redis, keyPrefix: prefix });
        await waitUntil('the last writes delivered', () => ledger.undelivered().length === 0);
        expect(await cacheProblems(redis, db.pool, prefix, PRODUCT_AGGREGATE)).toEqual([]);
        expect(readers.mismatches()).toEqual([]);
        expect(poisoned).toBe(0);
        expect(second.relay.stats().invalidRows).toBe(0);
        expect(ledger.committedCount).toBeGreaterThan(100);
      } finally {
        await second.stop();
      }
    } finally {
      stopWriters.abort();
      stopReaders.abort();
      await readers.done;
      await writing.catch(() => {});
    }
  });
});
