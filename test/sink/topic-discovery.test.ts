/**
 * Topic discovery: which topics a subscription covers (pure), and a sink started with a pattern
 * before any matching topic exists that picks up topics created later, re-subscribing without
 * losing or skipping the records of the topics it already consumes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Admin, Message, Producer } from 'kafkajs';
import { RedisCacheWriter } from '../../src/cache/redis-cache-writer.js';
import { AvroCodec } from '../../src/codec/codec.js';
import { SchemaRegistryClient } from '../../src/codec/registry-client.js';
import { createLogger } from '../../src/ops/logger.js';
import { createSinkMetrics } from '../../src/ops/metrics.js';
import { outboxSubject, outboxTopic } from '../../src/outbox/event.js';
import { parseSinkConfig } from '../../src/config/sink.js';
import { createApplyStep } from '../../src/sink/apply-step.js';
import { startSink } from '../../src/sink/sink.js';
import { addedTopics, matchTopics } from '../../src/sink/topic-discovery.js';
import { createTestKafka, createTestRedis, uniqueName, uniqueSuffix, waitUntil } from '../helpers.js';
import { startSchemaRegistryDouble, type SchemaRegistryDouble } from '../registry-double/schema-registry-double.js';
import { USER_CHANGED_V1, cacheState, committedOffsets, debeziumMessage, debeziumProducer, endOffsets, framed, produceAll, total } from './harness.js';

describe('matchTopics', () => {
  const existing = ['outbox.event.user', 'outbox.event.order', '__debezium-heartbeat.app', '__consumer_offsets', 'other', 'outbox.event.a.b'];

  it('resolves patterns against existing topics, keeps literal names, sorts and deduplicates', () => {
    expect(matchTopics([/^outbox\.event\.[A-Za-z0-9_]+$/], existing)).toEqual(['outbox.event.order', 'outbox.event.user']);
    expect(matchTopics(['outbox.event.missing', 'outbox.event.user', /user$/], existing)).toEqual(['outbox.event.missing', 'outbox.event.user']);
    expect(matchTopics(['x'], existing)).toEqual(['x']);
  });

  it('never matches internal topics, Debezium heartbeats included', () => {
    expect(matchTopics([/.*/], existing)).toEqual(['other', 'outbox.event.a.b', 'outbox.event.order', 'outbox.event.user']);
    expect(matchTopics([/heartbeat/], existing)).toEqual([]);
  });

  it('ignores the state of global and sticky patterns', () => {
    const pattern = /^outbox\.event\./g;
    expect(matchTopics([pattern], existing)).toEqual(matchTopics([pattern], existing));
    expect(matchTopics([/outbox/y], existing)).toHaveLength(3);
  });

  it('lists what is not subscribed yet', () => {
    expect(addedTopics(new Set(['a', 'b']), ['a', 'b', 'c'])).toEqual(['c']);
    expect(addedTopics(new Set(['a']), ['a'])).toEqual([]);
  });
});

describe('KAFKA_TOPIC_REFRESH_MS', () => {
  const minimal = { KAFKA_BROKERS: 'k:9092', SCHEMA_REGISTRY_URL: 'http://registry:8081', REDIS_URL: 'redis://cache:6379' };
  it('defaults to 30 s, allows 0 (only at start) and refuses intervals that would flood the cluster', () => {
    expect(parseSinkConfig(minimal).topicRefreshMs).toBe(30_000);
    expect(parseSinkConfig({ ...minimal, KAFKA_TOPIC_REFRESH_MS: '0' }).topicRefreshMs).toBe(0);
    expect(parseSinkConfig(minimal, ['--topic-refresh-ms', '250']).topicRefreshMs).toBe(250);
    expect(() => parseSinkConfig({ ...minimal, KAFKA_TOPIC_REFRESH_MS: '50' })).toThrow(/KAFKA_TOPIC_REFRESH_MS/);
  });
});

describe('a sink subscribed with a pattern', () => {
  const kafka = createTestKafka();
  const { redis, prefix } = createTestRedis();
  let registry: SchemaRegistryDouble;
  let producer: Producer;
  let admin: Admin;
  beforeAll(async () => {
    [registry, producer] = await Promise.all([startSchemaRegistryDouble(), debeziumProducer(kafka)]);
    admin = kafka.admin();
    await admin.connect();
  });
  afterAll(async () => {
    await Promise.allSettled([producer?.disconnect(), admin?.disconnect(), registry?.close()]);
    redis.disconnect();
  });

  it('picks up topics created after it started and applies every record of every topic exactly per the guard', async () => {
    // Unique per test run, so that other test files' outbox topics never match.
    const tag = `t${uniqueSuffix()}`;
    const [typeA, typeB] = [`${tag}_a`, `${tag}_b`];
    const [topicA, topicB] = [outboxTopic(typeA), outboxTopic(typeB)];
    const ids = { [typeA]: registry.store.register(outboxSubject(typeA), JSON.stringify(USER_CHANGED_V1)), [typeB]: registry.store.register(outboxSubject(typeB), JSON.stringify(USER_CHANGED_V1)) };
    const keys = 30;
    const batch = (type: string, version: number): Message[] => Array.from({ length: keys }, (_, k) =>
      debeziumMessage({ aggregateId: `k${k}`, version, payload: framed(USER_CHANGED_V1, ids[type]!, { id: k, name: 'n', email: null, version }) }));
    const atVersion = async (type: string, version: bigint): Promise<boolean> => {
      const state = await cacheState(redis, `${prefix}${type}:`);
      return state.size === keys && [...state.values()].every((v) => v.version === version);
    };
    const groupId = uniqueName('sink');
    const committedAll = async (topic: string): Promise<boolean> => {
      const [committed, ends] = await Promise.all([committedOffsets(admin, groupId, topic), endOffsets(admin, topic)]);
      return [...ends].every(([p, end]) => end === 0n || committed.get(p) === end);
    };

    const lines: string[] = [];
    const controller = new AbortController();
    const metrics = createSinkMetrics();
    const sink = await startSink({
      kafka, groupId, topics: [new RegExp(`^outbox\\.event\\.${tag}_[A-Za-z0-9_]+$`)], topicRefreshMs: 200,
      // Latest for topics that existed at start: topics found later must still be read from their start.
      fromBeginning: false,
      dlqTopic: uniqueName('dlq'), metrics, signal: controller.signal, sessionTimeoutMs: 6000, retry: { initialDelayMs: 50, maxDelayMs: 400 },
      step: createApplyStep({
        decoder: new AvroCodec({ registry: new SchemaRegistryClient({ url: registry.url, timeoutMs: 2000 }) }),
        writer: new RedisCacheWriter({ redis, commandTimeoutMs: 1000 }),
        mapping: { keyPrefix: prefix },
      }),
      logger: createLogger({ level: 'info', destination: { write: (line: string) => void lines.push(line) } }),
    });
    try {
      expect(sink.ready()).toBe(true);
      await produceAll(producer, topicA, batch(typeA, 1));
      await waitUntil('the first topic found and applied', () => atVersion(typeA, 1n), 30_000);

      // Versions 2..6 of the first topic keep arriving while the second topic appears and the
      // consumer re-subscribes.
      const writes = (async () => {
        for (let v = 2; v <= 6; v++) await produceAll(producer, topicA, batch(typeA, v));
      })();
      await produceAll(producer, topicB, [...batch(typeB, 1), ...batch(typeB, 2)]);
      await writes;
      await waitUntil('both topics applied to their newest versions and committed', async () =>
        (await atVersion(typeA, 6n)) && (await atVersion(typeB, 2n)) && (await committedAll(topicA)) && (await committedAll(topicB)), 30_000);
      await waitUntil('ready after re-subscribing', () => sink.ready());
    } finally {
      controller.abort();
      await sink.done;
    }
    expect(await total(metrics.deadLettered)).toBe(0);
    // Re-reads after a re-subscription are possible (uncommitted records), skips are not.
    expect(await total(metrics.consumed)).toBeGreaterThanOrEqual(keys * 8);
    const logs = lines.map((l) => JSON.parse(l) as { msg: string; added?: string[]; topics?: string[] });
    expect(logs.filter((l) => l.msg === 'new topics match the pattern; re-subscribing').map((l) => l.added)).toEqual([[topicA], [topicB]]);
    expect(logs.find((l) => l.added?.includes(topicB))?.topics).toEqual([topicA, topicB]);
  });
});
