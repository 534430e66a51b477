/**
 * End to end through Kafka: real MariaDB commits (outbox writer, concurrent writers) → binlog →
 * relay in Kafka mode (records exactly as Debezium's EventRouter writes them) → librdkafka's mock
 * cluster → the sink (consumer group, registry double) → the version guard in Redis, with
 * concurrent guarded readers. The relay and the sink are each stopped and restarted mid-run. At
 * the end every committed version reached the sink and every cache key is absent, a tombstone, or
 * exactly the database's row.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { createPool, type Pool } from 'mysql2/promise';
import type { Producer } from 'kafkajs';
import { RedisCacheWriter } from '../../src/cache/redis-cache-writer.js';
import { CACHE_CHANGE_SCHEMA_V1 } from '../../src/codec/cache-change.js';
import { AvroCodec } from '../../src/codec/codec.js';
import { SchemaRegistryClient } from '../../src/codec/registry-client.js';
import { ensureProducts } from '../../src/demo/product-table.js';
import { outboxSubject, outboxTopic } from '../../src/outbox/event.js';
import { migrateOutbox } from '../../src/outbox/migrate.js';
import { createLogger } from '../../src/ops/logger.js';
import { createKafkaApply, createOutboxProducer, startRelay, type Relay } from '../../src/relay/index.js';
import { createApplyStep } from '../../src/sink/apply-step.js';
import { startSink, type RunningSink } from '../../src/sink/sink.js';
import { startSchemaRegistryDouble, type SchemaRegistryDouble } from '../registry-double/schema-registry-double.js';
import { createTestDatabase, createTestKafka, createTestRedis, uniqueName, uniqueSuffix, waitUntil, type TestDatabase } from '../helpers.js';
import { cacheProblems, fillThenWriteEveryKey, Ledger, runReaders, runWriters } from './e2e-helpers.js';

const IDS = [1, 2, 3, 4, 5, 6, 7, 8];
// A topic of this file's own on the shared mock cluster.
const AGGREGATE = `product_${uniqueSuffix()}`;
const kafka = createTestKafka();
const { redis, prefix } = createTestRedis();
let db: TestDatabase;
let relayPool: Pool;
let registry: SchemaRegistryDouble;
let producer: Producer;

beforeAll(async () => {
  db = await createTestDatabase('e2e_kafka');
  const conn = await db.pool.getConnection();
  await migrateOutbox(conn);
  conn.release();
  await ensureProducts(db.pool, IDS.length);
  relayPool = createPool({ uri: db.url, connectionLimit: 3, timezone: 'Z', supportBigNumbers: true });
  registry = await startSchemaRegistryDouble({ preload: [{ id: 4201, subject: outboxSubject(AGGREGATE), schema: CACHE_CHANGE_SCHEMA_V1 }] });
  producer = createOutboxProducer(kafka);
  await producer.connect();
});
afterAll(async () => {
  await producer?.disconnect();
  redis.disconnect();
  await registry?.close();
  await relayPool?.end();
  await db?.drop();
});

describe('binlog tail → Kafka (mock cluster) → sink → Redis', () => {
  it('loses nothing across a relay restart and a sink restart, and leaves every key absent, a tombstone or exactly the database row', async () => {
    const ledger = new Ledger();
    await ledger.seed(db.pool);
    const schema = await new AvroCodec({ registry: new SchemaRegistryClient({ url: registry.url, timeoutMs: 2000 }) }).writerSchema(outboxSubject(AGGREGATE));
    const groupId = uniqueName('e2e-sink');
    const dlqTopic = uniqueName('e2e-dlq');
    let poisoned = 0;
    const step = createApplyStep({
      decoder: new AvroCodec({ registry: new SchemaRegistryClient({ url: registry.url, timeoutMs: 2000 }) }),
      writer: new RedisCacheWriter({ redis, commandTimeoutMs: 2000 }),
      mapping: { keyPrefix: prefix },
    });
    const startTheSink = async (): Promise<{ sink: RunningSink; stop: () => Promise<void> }> => {
      const controller = new AbortController();
      const sink = await startSink({
        kafka, groupId, topics: [outboxTopic(AGGREGATE)], dlqTopic, logger: createLogger({ level: 'silent' }), signal: controller.signal,
        // The mock cluster answers a fetch only when its wait expires: keep it short.
        maxWaitTimeMs: 100, sessionTimeoutMs: 6_000, retry: { initialDelayMs: 20, maxDelayMs: 200 },
        step: async (events) => {
          const report = await step(events);
          poisoned += report.poisoned.length;
          ledger.deliver(events);
          return report;
        },
      });
      return { sink, stop: async () => (controller.abort(), await sink.done) };
    };
    const startTheRelay = async (): Promise<{ relay: Relay; stop: () => Promise<void> }> => {
      const controller = new AbortController();
      const relay = await startRelay({
        pool: relayPool, connection: { uri: inject('mysqlUrl') }, database: db.name, relayName: 'e2e-kafka', signal: controller.signal,
        retryDelays: { initialDelayMs: 5, maxDelayMs: 50 }, checkpointIntervalMs: 100, apply: createKafkaApply(producer),
      });
      return { relay, stop: async () => (controller.abort(), await relay.done) };
    };

    let relay = await startTheRelay();
    const stopReaders = new AbortController();
    const stopWriters = new AbortController();
    const readers = runReaders({ redis, pool: db.pool, keyPrefix: prefix, aggregateType: AGGREGATE, ids: IDS, readers: 3, ledger, stop: stopReaders.signal });
    const writing = runWriters({ pool: db.pool, schema, aggregateType: AGGREGATE, ids: IDS, writers: 4, ledger, stop: stopWriters.signal, pauseMs: 20 });
    let sink: Awaited<ReturnType<typeof startTheSink>> | undefined;
    try {
      // The topic exists once the relay produced to it; then the sink subscribes.
      await waitUntil('the relay produced some events', () => relay.relay.stats().events >= 20);
      sink = await startTheSink();
      await waitUntil('the sink applied some events', () => ledger.deliveredEvents >= 30);
      await relay.stop();
      const stoppedAt = ledger.committedCount;
      await waitUntil('writes committed while the relay is down', () => ledger.committedCount >= stoppedAt + 20);
      relay = await startTheRelay();
      await waitUntil('the restarted relay produced', () => relay.relay.stats().events >= 10);
      await sink.stop();
      sink = undefined;
      const sinkStoppedAt = ledger.committedCount;
      await waitUntil('writes committed while the sink is down', () => ledger.committedCount >= sinkStoppedAt + 20);
      const deliveredBefore = ledger.deliveredEvents;
      sink = await startTheSink();
      await waitUntil('the restarted sink applied', () => ledger.deliveredEvents >= deliveredBefore + 20);
      stopWriters.abort();
      await writing;
      await waitUntil('every committed version reached the sink', () => ledger.undelivered().length === 0, 45_000);
      await waitUntil('readers have read', () => readers.reads() > 100);
      stopReaders.abort();
      await readers.done;
      await fillThenWriteEveryKey({ pool: db.pool, schema, aggregateType: AGGREGATE, ids: IDS, ledger, redis, keyPrefix: prefix });
      await waitUntil('the last writes reached the sink', () => ledger.undelivered().length === 0, 30_000);
      expect(await cacheProblems(redis, db.pool, prefix, AGGREGATE)).toEqual([]);
      expect(readers.mismatches()).toEqual([]);
      expect(poisoned).toBe(0);
      expect(ledger.committedCount).toBeGreaterThan(100);
    } finally {
      stopWriters.abort();
      stopReaders.abort();
      await readers.done;
      await writing.catch(() => {});
      await sink?.stop();
      await relay.stop();
    }
  });
});
