/**
 * Helpers for the sink's integration tests: records produced exactly as Debezium's EventRouter
 * produces them (DESIGN.md §3), an in-process sink over the real Redis and the registry double,
 * and readers of the resulting Redis and Kafka state.
 */
import avro from 'avsc';
import { Partitioners, type Admin, type Kafka, type Message, type Producer } from 'kafkajs';
import type { Redis } from 'ioredis';
import type { Counter } from 'prom-client';
import { RedisCacheWriter } from '../../src/cache/redis-cache-writer.js';
import { decodeStoredValue, type StoredValue } from '../../src/cache/stored-value.js';
import { AvroCodec } from '../../src/codec/codec.js';
import { encodeFrame } from '../../src/codec/framing.js';
import { SchemaRegistryClient } from '../../src/codec/registry-client.js';
import { createLogger } from '../../src/ops/logger.js';
import { createSinkMetrics, type SinkMetrics } from '../../src/ops/metrics.js';
import { createApplyStep } from '../../src/sink/apply-step.js';
import type { MappingModule } from '../../src/sink/mapping.js';
import type { Routing } from '../../src/sink/routing.js';
import { startSink, type RunningSink } from '../../src/sink/sink.js';

/** The example domain event, v1 exactly as in the captured Debezium fixture. */
export const USER_CHANGED_V1 = {
  type: 'record', name: 'UserChanged', namespace: 'com.example.users',
  fields: [
    { name: 'id', type: 'long' }, { name: 'name', type: 'string' },
    { name: 'email', type: ['null', 'string'], default: null }, { name: 'version', type: 'long' },
  ],
} as const;

/** v2 adds a field with a default (BACKWARD compatible). */
export const USER_CHANGED_V2 = { ...USER_CHANGED_V1, fields: [...USER_CHANGED_V1.fields, { name: 'country', type: 'string', default: '' }] };

/** Confluent-framed Avro bytes of `value` under `schema`, registered as `id`. */
export function framed(schema: unknown, id: number, value: unknown): Buffer {
  return encodeFrame(id, avro.Type.forSchema(schema as avro.Schema).toBuffer(value));
}

/** One outbox event as Debezium's EventRouter writes it to Kafka. */
export interface DebeziumEvent {
  readonly aggregateId: string;
  readonly version: bigint | number;
  readonly payload: Buffer;
  readonly type?: string;
  readonly id?: string;
  readonly occurredAtMs?: number;
}

/** Key = UTF-8 aggregateid, value = payload, headers id/type/version in that order, timestamp = occurred_at. */
export function debeziumMessage(e: DebeziumEvent): Message {
  const version = String(e.version);
  return {
    key: Buffer.from(e.aggregateId, 'utf8'),
    value: e.payload,
    timestamp: String(e.occurredAtMs ?? Date.now()),
    headers: {
      id: Buffer.from(e.id ?? crypto.randomUUID(), 'ascii'),
      type: Buffer.from(e.type ?? 'UserChanged', 'utf8'),
      version: Buffer.from(version, 'ascii'),
    },
  };
}

/** A producer partitioning like Debezium's (kafkajs' default partitioner, murmur2 like Java). */
export async function debeziumProducer(kafka: Kafka): Promise<Producer> {
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  return producer;
}

/** Produces `messages` to `topic` in order, in chunks, waiting for acks=all. */
export async function produceAll(producer: Producer, topic: string, messages: readonly Message[], chunk = 1000): Promise<void> {
  for (let i = 0; i < messages.length; i += chunk) {
    await producer.send({ topic, acks: -1, messages: messages.slice(i, i + chunk) });
  }
}

/** A sink running in this process, with handles for assertions. */
export interface TestSink {
  readonly sink: RunningSink;
  readonly metrics: SinkMetrics;
  stop(): Promise<void>;
}

/** Starts the sink library (startSink + createApplyStep) over the real Redis and the registry double. */
export async function startTestSink(options: {
  kafka: Kafka; redis: Redis; registryUrl: string; topics: (string | RegExp)[]; groupId: string; dlqTopic: string;
  keyPrefix: string; namespaces?: string[]; mappings?: MappingModule; chunkSize?: number; routing?: Routing; topicRefreshMs?: number;
}): Promise<TestSink> {
  const controller = new AbortController();
  const metrics = createSinkMetrics();
  const step = createApplyStep({
    decoder: new AvroCodec({ registry: new SchemaRegistryClient({ url: options.registryUrl, timeoutMs: 2000 }) }),
    writer: new RedisCacheWriter({ redis: options.redis, commandTimeoutMs: 1000 }),
    mapping: { keyPrefix: options.keyPrefix, namespaces: options.namespaces, mappings: options.mappings },
    subjectStrategy: options.routing?.subjectStrategy,
  });
  const sink = await startSink({
    kafka: options.kafka, groupId: options.groupId, topics: options.topics, dlqTopic: options.dlqTopic, step,
    logger: createLogger({ level: 'silent' }), metrics, signal: controller.signal, chunkSize: options.chunkSize,
    retry: { initialDelayMs: 50, maxDelayMs: 400 }, sessionTimeoutMs: 10_000, routing: options.routing, topicRefreshMs: options.topicRefreshMs,
  });
  return {
    sink, metrics,
    async stop() {
      controller.abort();
      await sink.done;
    },
  };
}

/** Sum of a counter over all its labels. */
export async function total(counter: Counter<string>): Promise<number> {
  return (await counter.get()).values.reduce((sum, v) => sum + v.value, 0);
}

/** Decoded stored values of every key under `prefix`. */
export async function cacheState(redis: Redis, prefix: string): Promise<Map<string, StoredValue>> {
  const keys = await scanKeys(redis, prefix);
  const values = keys.length ? await redis.mgetBuffer(...keys) : [];
  const out = new Map<string, StoredValue>();
  keys.forEach((key, i) => {
    const decoded = decodeStoredValue(values[i]);
    if (decoded) out.set(key.slice(prefix.length), decoded);
  });
  return out;
}

/** Raw bytes of every key under `prefix`, sorted by key, for byte-for-byte comparisons. */
export async function rawCache(redis: Redis, prefix: string): Promise<[string, string][]> {
  const keys = (await scanKeys(redis, prefix)).sort();
  const values = keys.length ? await redis.mgetBuffer(...keys) : [];
  return keys.map((k, i) => [k, values[i]?.toString('hex') ?? '']);
}

async function scanKeys(redis: Redis, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    keys.push(...batch);
  } while (cursor !== '0');
  return keys;
}

/** Committed offset per partition of `topic` for `groupId` (-1 when none). */
export async function committedOffsets(admin: Admin, groupId: string, topic: string): Promise<Map<number, bigint>> {
  const [result] = await admin.fetchOffsets({ groupId, topics: [topic] });
  return new Map((result?.partitions ?? []).map((p) => [p.partition, BigInt(p.offset)]));
}

/** End offset (high watermark) per partition of `topic`. */
export async function endOffsets(admin: Admin, topic: string): Promise<Map<number, bigint>> {
  const offsets = await admin.fetchTopicOffsets(topic);
  return new Map(offsets.map((p) => [p.partition, BigInt(p.high)]));
}
