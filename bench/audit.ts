/**
 * Benchmark of `outbox-cache audit`: can the auditor keep up with the sink? One run starts its own
 * Redis, Kafka mock cluster (3 brokers) and Schema Registry double, pre-fills four outbox topics
 * with Debezium-shaped cache-change UPSERT records (64-byte values, many keys with a hot set,
 * committed 10 minutes ago so every check is due at once), then alternates rounds of
 *   - the sink (startSink + the shared apply step, default chunking; Redis flushed first), events/s;
 *   - the auditor as `outbox-cache audit` assembles it (runAuditFromConfig, AUDIT_DELAYS=1s: one
 *     check per event), checks/s;
 * each round a new consumer group reading the same records, timed from its first processed record
 * to its last. Medians over the rounds. Last line:
 * {"bench":"audit","checks_per_s":…,"sink_events_per_s":…,"ratio":…}
 */
import avro from 'avsc';
import { Redis } from 'ioredis';
import { Kafka, Partitioners, logLevel, type Message } from 'kafkajs';
import { runAuditFromConfig } from '../src/audit/from-config.js';
import type { AuditSession } from '../src/audit/session.js';
import { parseAuditConfig } from '../src/audit/settings.js';
import { CACHE_CHANGE_SCHEMA_V1 } from '../src/codec/cache-change.js';
import { encodeFrame } from '../src/codec/framing.js';
import { startKafkaMock, startRedis } from '../src/local-servers/index.js';
import { createLogger } from '../src/ops/logger.js';
import { outboxSubject, outboxTopic } from '../src/outbox/event.js';
import { sleep } from '../src/retry.js';
import { startSchemaRegistryDouble } from '../test/registry-double/schema-registry-double.js';
import { debeziumMessage, startTestSink, total } from '../test/sink/harness.js';

const RECORDS = Number(process.env.BENCH_AUDIT_RECORDS ?? 200_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const KEYS = 50_000;
const HOT_KEYS = 1_000;
/** One topic per type: the mock cluster keeps only ~5 MB per partition (4 per topic). */
const TYPES = ['bench_user', 'bench_order', 'bench_product', 'bench_account'];
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

function makeRecords(schemaId: number, committedAt: number): Map<string, Message[]> {
  const type = avro.Type.forSchema(CACHE_CHANGE_SCHEMA_V1 as avro.Schema);
  const versions = new Map<string, number>();
  const out = new Map<string, Message[]>(TYPES.map((t) => [outboxTopic(t), []]));
  const value = Buffer.alloc(64, 'v');
  for (let i = 0; i < RECORDS; i++) {
    const entity = TYPES[i % TYPES.length]!;
    const id = String(Math.random() < 0.5 ? Math.floor(Math.random() * HOT_KEYS) : Math.floor(Math.random() * KEYS));
    const version = (versions.get(`${entity}:${id}`) ?? 0) + 1;
    versions.set(`${entity}:${id}`, version);
    const payload = encodeFrame(schemaId, type.toBuffer({ entity, id, version, operation: 'UPSERT', value, extraKeys: [], occurredAt: committedAt }));
    out.get(outboxTopic(entity))!.push(debeziumMessage({ aggregateId: id, version, payload, type: 'CacheChange', occurredAtMs: committedAt }));
  }
  return out;
}

/** Polls `count` until it reaches `target`; returns the time between its first move and the end, ms. */
async function timeProgress(count: () => Promise<number> | number, target: number): Promise<number> {
  let first: number | undefined;
  for (;;) {
    const n = await count();
    const now = performance.now();
    if (n > 0 && first === undefined) first = now;
    if (n >= target) return now - (first ?? now);
    await sleep(10);
  }
}

async function main(): Promise<void> {
  const [redisServer, cluster, registry] = await Promise.all([startRedis(), startKafkaMock({ brokers: 3 }), startSchemaRegistryDouble()]);
  const redis = new Redis(redisServer.url, { maxRetriesPerRequest: 1 });
  try {
    const topics = TYPES.map(outboxTopic);
    const schemaId = TYPES.map((t) => registry.store.register(outboxSubject(t), JSON.stringify(CACHE_CHANGE_SCHEMA_V1)))[0]!;
    const kafka = new Kafka({ clientId: 'bench-audit', brokers: cluster.brokers, logLevel: logLevel.ERROR });
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    for (const [topic, records] of makeRecords(schemaId, Date.now() - 600_000)) {
      for (let i = 0; i < records.length; i += 5000) await producer.send({ topic, acks: -1, messages: records.slice(i, i + 5000) });
    }
    await producer.disconnect();
    console.log(`pre-filled ${RECORDS} records on ${topics.length} topics`);

    const sinkRates: number[] = [];
    const auditRates: number[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      await redis.flushdb();
      const sink = await startTestSink({ kafka, redis, registryUrl: registry.url, topics, groupId: `bench-sink-${round}`, dlqTopic: 'bench-dlq', keyPrefix: '' });
      const sinkMs = await timeProgress(() => total(sink.metrics.consumed), RECORDS);
      await sink.stop();
      sinkRates.push(RECORDS / (sinkMs / 1000));

      const controller = new AbortController();
      let session: AuditSession | undefined;
      const config = parseAuditConfig({
        KAFKA_BROKERS: cluster.brokers.join(','), KAFKA_GROUP_ID: `bench-audit-${round}`, KAFKA_TOPICS: topics.join(','),
        SCHEMA_REGISTRY_URL: registry.url, REDIS_URL: redisServer.url, METRICS_PORT: '0', AUDIT_DELAYS: '1s', AUDIT_SUMMARY_INTERVAL_MS: '0',
      });
      const done = runAuditFromConfig(config, { signal: controller.signal, logger: createLogger({ level: 'silent' }), onStarted: (s) => (session = s) });
      const auditMs = await timeProgress(() => session?.auditor.summary().delays[0]?.checks ?? 0, RECORDS);
      controller.abort();
      await done;
      auditRates.push(RECORDS / (auditMs / 1000));
      console.log(`round ${round}: sink ${Math.round(sinkRates.at(-1)!)} events/s, audit ${Math.round(auditRates.at(-1)!)} checks/s`);
    }
    const checks = median(auditRates);
    const events = median(sinkRates);
    console.log(JSON.stringify({ bench: 'audit', checks_per_s: Math.round(checks), sink_events_per_s: Math.round(events), ratio: Number((checks / events).toFixed(2)) }));
  } finally {
    redis.disconnect();
    await Promise.allSettled([registry.close(), cluster.stop(), redisServer.stop()]);
  }
}

await main();
