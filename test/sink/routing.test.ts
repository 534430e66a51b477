/**
 * Routing (DESIGN.md §3): aggregate type from the topic through a pattern with a named group,
 * the subject through Confluent's naming strategies; a consumed topic that cannot be routed is a
 * start-up error, or dead letters with the reason when it appears later. Never a silent skip.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KafkaMessage } from 'kafkajs';
import { parseSinkConfig } from '../../src/config/sink.js';
import { ConfigError } from '../../src/errors.js';
import { DEAD_LETTER_HEADERS } from '../../src/sink/dead-letter.js';
import { DEFAULT_ROUTING, createRouting, routeTopic, routingPatternProblem, subjectOf, unroutableTopics } from '../../src/sink/routing.js';
import { createTestKafka, createTestRedis, uniqueName, uniqueSuffix, waitUntil } from '../helpers.js';
import { startSchemaRegistryDouble, type SchemaRegistryDouble } from '../registry-double/schema-registry-double.js';
import { USER_CHANGED_V1, cacheState, debeziumMessage, debeziumProducer, framed, produceAll, startTestSink, total } from './harness.js';

describe('routeTopic', () => {
  it('routes the default outbox.event.<type> and ignores only internal topics', () => {
    expect(routeTopic('outbox.event.user')).toEqual({ kind: 'outbox', aggregateType: 'user', subject: 'outbox.event.user-value' });
    expect(routeTopic('__debezium-heartbeat.app')).toEqual({ kind: 'ignored' });
    expect(routeTopic('__consumer_offsets')).toEqual({ kind: 'ignored' });
    for (const topic of ['app.outbox.event.user', 'outbox.event.us-er', 'orders', 'outbox.event.']) {
      expect(routeTopic(topic).kind, topic).toBe('unroutable');
    }
  });

  it('routes through a configured pattern and names subjects by each strategy', () => {
    const source = '^(?:[a-z0-9]+\\.)?outbox\\.event\\.(?<aggregateType>[A-Za-z0-9_]+)$';
    const byTopic = createRouting(source);
    expect(routeTopic('dbserver1.outbox.event.user', byTopic)).toMatchObject({ kind: 'outbox', aggregateType: 'user', subject: 'dbserver1.outbox.event.user-value' });
    const record = routeTopic('dbserver1.outbox.event.user', createRouting(source, 'RecordNameStrategy'));
    const topicRecord = routeTopic('dbserver1.outbox.event.user', createRouting(source, 'TopicRecordNameStrategy'));
    if (record.kind !== 'outbox' || topicRecord.kind !== 'outbox') throw new Error('not routed');
    expect(subjectOf(record.subject, 'com.example.users.UserChanged')).toBe('com.example.users.UserChanged');
    expect(subjectOf(topicRecord.subject, 'com.example.users.UserChanged')).toBe('dbserver1.outbox.event.user-com.example.users.UserChanged');
    expect(unroutableTopics(['a.outbox.event.user', 'b.c.outbox.event.user', '__x'], byTopic).map((u) => u.topic)).toEqual(['b.c.outbox.event.user']);
  });

  it('refuses patterns without the named group, or that do not compile', () => {
    expect(routingPatternProblem('^outbox\\.event\\.([a-z]+)$')).toMatch(/named group/);
    expect(routingPatternProblem('(')).toMatch(/valid regular expression/);
    expect(routingPatternProblem(DEFAULT_ROUTING.pattern.source)).toBeUndefined();
    expect(routeTopic('x.y', createRouting('^(?<aggregateType>.+)$')).kind).toBe('unroutable');
  });
});

describe('routing settings', () => {
  const minimal = { KAFKA_BROKERS: 'k:9092', SCHEMA_REGISTRY_URL: 'http://registry:8081', REDIS_URL: 'redis://cache:6379' };
  it('defaults to outbox.event.<type> and TopicNameStrategy, subscribing to what it can route', () => {
    const c = parseSinkConfig(minimal);
    expect(c.subjectStrategy).toBe('TopicNameStrategy');
    expect(routeTopic('outbox.event.user', createRouting(c.routingPattern)).kind).toBe('outbox');
    const prefixed = parseSinkConfig({ ...minimal, ROUTING_TOPIC_PATTERN: '^app\\.outbox\\.event\\.(?<aggregateType>\\w+)$', SCHEMA_SUBJECT_STRATEGY: 'RecordNameStrategy' });
    expect(prefixed.subjectStrategy).toBe('RecordNameStrategy');
  });

  it('reports every routing problem at once, a consumed topic it cannot route included', () => {
    let error: unknown;
    try {
      parseSinkConfig({ ...minimal, KAFKA_TOPICS: 'outbox.event.user,app.outbox.event.user', SCHEMA_SUBJECT_STRATEGY: 'Topic' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems.map((p) => p.setting)).toEqual(['SCHEMA_SUBJECT_STRATEGY']);
    try {
      parseSinkConfig({ ...minimal, KAFKA_TOPICS: 'outbox.event.user,app.outbox.event.user' });
    } catch (err) {
      error = err;
    }
    expect((error as ConfigError).problems).toEqual([{ setting: 'KAFKA_TOPICS', message: expect.stringContaining("'app.outbox.event.user'") }]);
    expect(() => parseSinkConfig({ ...minimal, ROUTING_TOPIC_PATTERN: '^outbox\\.event\\.(\\w+)$' })).toThrow(/ROUTING_TOPIC_PATTERN: must have a named group/);
  });
});

describe('a sink with a routing of its own', () => {
  const kafka = createTestKafka();
  const { redis, prefix } = createTestRedis();
  let registry: SchemaRegistryDouble;
  beforeAll(async () => {
    registry = await startSchemaRegistryDouble();
  });
  afterAll(async () => {
    await registry?.close();
    redis.disconnect();
  });

  it('applies <prefix>.outbox.event.<type> records whose subjects follow TopicRecordNameStrategy', async () => {
    const site = `s${uniqueSuffix().replace(/[^a-z0-9]/gi, '')}`;
    const type = uniqueName('usr');
    const topic = `${site}.outbox.event.${type}`;
    const schemaId = registry.store.register(`${topic}-com.example.users.UserChanged`, JSON.stringify(USER_CHANGED_V1));
    const producer = await debeziumProducer(kafka);
    await produceAll(producer, topic, [1, 2, 3].map((v) =>
      debeziumMessage({ aggregateId: 'a', version: v, payload: framed(USER_CHANGED_V1, schemaId, { id: 1, name: 'n', email: null, version: v }) })));
    await producer.disconnect();
    const routing = createRouting(`^${site}\\.outbox\\.event\\.(?<aggregateType>[A-Za-z0-9_]+)$`, 'TopicRecordNameStrategy');
    const keyPrefix = `${prefix}r:`;
    const sink = await startTestSink({ kafka, redis, registryUrl: registry.url, topics: [topic], groupId: uniqueName('sink'), dlqTopic: uniqueName('dlq'), keyPrefix, routing });
    try {
      await waitUntil('the prefixed topic applied', async () => (await cacheState(redis, keyPrefix)).get(`${type}:a`)?.version === 3n);
      expect(await total(sink.metrics.deadLettered)).toBe(0);
      expect(await total(sink.metrics.ignored)).toBe(0);
    } finally {
      await sink.stop();
    }
  });

  it('refuses to start on a subscribed topic it cannot route', async () => {
    const topic = `${uniqueName('app')}.outbox.event.user`;
    await expect(startTestSink({ kafka, redis, registryUrl: registry.url, topics: [topic], groupId: uniqueName('sink'), dlqTopic: uniqueName('dlq'), keyPrefix: prefix }))
      .rejects.toMatchObject({ code: 'CONFIG_INVALID', message: expect.stringContaining(topic) });
  });

  it('dead-letters, with the reason, the records of a topic discovered later that it cannot route', async () => {
    const site = `d${uniqueSuffix().replace(/[^a-z0-9]/gi, '')}`;
    const type = uniqueName('usr');
    const good = `${site}.outbox.event.${type}`;
    const stray = `${site}.strays.${type}`;
    const schemaId = registry.store.register(`${good}-value`, JSON.stringify(USER_CHANGED_V1));
    const message = (v: number) => debeziumMessage({ aggregateId: 'a', version: v, payload: framed(USER_CHANGED_V1, schemaId, { id: 1, name: 'n', email: null, version: v }) });
    const producer = await debeziumProducer(kafka);
    await produceAll(producer, good, [message(1)]);
    const dlqTopic = uniqueName('dlq');
    const keyPrefix = `${prefix}d:`;
    const sink = await startTestSink({
      kafka, redis, registryUrl: registry.url, topics: [new RegExp(`^${site}\\.`)], groupId: uniqueName('sink'), dlqTopic, keyPrefix, topicRefreshMs: 200,
      routing: createRouting(`^${site}\\.outbox\\.event\\.(?<aggregateType>[A-Za-z0-9_]+)$`),
    });
    const dead: KafkaMessage[] = [];
    const reader = kafka.consumer({ groupId: uniqueName('dlq-reader') });
    try {
      await waitUntil('the routable topic applied', async () => (await cacheState(redis, keyPrefix)).get(`${type}:a`)?.version === 1n);
      await produceAll(producer, stray, [message(2), message(3)]);
      await waitUntil('the stray records dead-lettered', async () => (await total(sink.metrics.deadLettered)) === 2, 30_000);
      await reader.connect();
      await reader.subscribe({ topics: [dlqTopic], fromBeginning: true });
      await reader.run({ eachMessage: async ({ message: m }) => void dead.push(m) });
      await waitUntil('dead letters read', () => dead.length === 2);
    } finally {
      await Promise.allSettled([reader.disconnect(), producer.disconnect()]);
      await sink.stop();
    }
    for (const m of dead) {
      expect(m.headers?.[DEAD_LETTER_HEADERS.errorCode]?.toString()).toBe('RECORD_UNROUTABLE');
      expect(m.headers?.[DEAD_LETTER_HEADERS.errorMessage]?.toString()).toContain(stray);
      expect(m.headers?.[DEAD_LETTER_HEADERS.topic]?.toString()).toBe(stray);
    }
    expect((await cacheState(redis, keyPrefix)).get(`${type}:a`)?.version).toBe(1n);
  });
});
