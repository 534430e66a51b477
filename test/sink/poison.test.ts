/**
 * Poison records: each lands in the dead-letter topic with its reason and its original topic,
 * partition and offset, keeping the original key, value and headers; the partition moves on.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { KafkaMessage } from 'kafkajs';
import { CACHE_CHANGE_SCHEMA_V1 } from '../../src/codec/cache-change.js';
import { outboxSubject, outboxTopic } from '../../src/outbox/event.js';
import { DEAD_LETTER_HEADERS } from '../../src/sink/dead-letter.js';
import { defineMappings } from '../../src/sink/mapping.js';
import { createTestKafka, createTestRedis, uniqueName, waitUntil } from '../helpers.js';
import { startSchemaRegistryDouble, type SchemaRegistryDouble } from '../registry-double/schema-registry-double.js';
import { USER_CHANGED_V1, cacheState, committedOffsets, debeziumMessage, debeziumProducer, endOffsets, framed, startTestSink, total } from './harness.js';

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

it('dead-letters each poison record with its reason and applies the records after it', async () => {
  const type = uniqueName('usr');
  const topic = outboxTopic(type);
  const subject = outboxSubject(type);
  registry.store.setLevel(subject, 'NONE');
  const userId = registry.store.register(subject, JSON.stringify(USER_CHANGED_V1));
  const changeId = registry.store.register(subject, JSON.stringify(CACHE_CHANGE_SCHEMA_V1));
  const otherId = registry.store.register(outboxSubject(uniqueName('other')), JSON.stringify({ type: 'record', name: 'Other', fields: [{ name: 'x', type: 'int' }] }));
  const good = (version: number, name = 'ok') => framed(USER_CHANGED_V1, userId, { id: 1, name, email: null, version });
  const validBody = good(1);
  // Every record has the same key, so all land on one partition, in this order.
  const corpus: [string, ReturnType<typeof debeziumMessage>][] = [
    ['DECODE_BAD_MAGIC', debeziumMessage({ aggregateId: 'p', version: 1, payload: Buffer.concat([Buffer.from([1]), validBody.subarray(1)]) })],
    ['DECODE_TRUNCATED', debeziumMessage({ aggregateId: 'p', version: 2, payload: Buffer.from([0, 0, 0]) })],
    ['DECODE_INVALID_AVRO', debeziumMessage({ aggregateId: 'p', version: 3, payload: validBody.subarray(0, validBody.length - 3) })],
    ['SCHEMA_UNKNOWN_ID', debeziumMessage({ aggregateId: 'p', version: 4, payload: Buffer.concat([Buffer.from([0, 0, 0x0f, 0x42, 0x3f]), validBody.subarray(5)]) })],
    ['SCHEMA_SUBJECT_MISMATCH', debeziumMessage({ aggregateId: 'p', version: 5, payload: framed({ type: 'record', name: 'Other', fields: [{ name: 'x', type: 'int' }] }, otherId, { x: 1 }) })],
    ['RECORD_MISSING_VERSION', { ...debeziumMessage({ aggregateId: 'p', version: 6, payload: good(6) }), headers: { id: Buffer.from('e6'), type: Buffer.from('UserChanged') } }],
    ['MAPPING_FAILED', debeziumMessage({ aggregateId: 'p', version: 7, payload: good(7, 'boom') })],
    ['MAPPING_KEY_OUTSIDE_NAMESPACE', debeziumMessage({
      aggregateId: 'p', version: 8,
      payload: framed(CACHE_CHANGE_SCHEMA_V1, changeId, { entity: 'elsewhere', id: 'p', version: 8, operation: 'INVALIDATE', value: null, extraKeys: [], occurredAt: 1 }),
    })],
  ];
  const producer = await debeziumProducer(kafka);
  const sent = await producer.send({ topic, acks: -1, messages: [...corpus.map(([, m]) => m), debeziumMessage({ aggregateId: 'p', version: 9, payload: good(9) })] });
  await producer.disconnect();
  const partition = sent[0]!.partition;
  const base = BigInt(sent[0]!.baseOffset ?? '0');

  const dlqTopic = uniqueName('dlq');
  const groupId = uniqueName('sink');
  const keyPrefix = `${prefix}p:`;
  const mappings = defineMappings({
    [type]: (_event, decoded, ctx) => {
      if ((decoded.value as { name?: string }).name === 'boom') throw new Error('cannot map boom');
      return ctx.defaultActions({ acceptOtherAggregate: true });
    },
  });
  const sink = await startTestSink({ kafka, redis, registryUrl: registry.url, topics: [topic], groupId, dlqTopic, keyPrefix, mappings });
  const admin = kafka.admin();
  await admin.connect();
  try {
    await waitUntil('the partition moved past the poison records', async () => {
      const [committed, ends] = await Promise.all([committedOffsets(admin, groupId, topic), endOffsets(admin, topic)]);
      return committed.get(partition) === ends.get(partition);
    });
  } finally {
    await sink.stop();
    await admin.disconnect();
  }
  expect((await cacheState(redis, keyPrefix)).get(`${type}:p`)?.version).toBe(9n);
  expect(await total(sink.metrics.deadLettered)).toBe(corpus.length);

  const dead: KafkaMessage[] = [];
  const consumer = kafka.consumer({ groupId: uniqueName('dlq-reader') });
  await consumer.connect();
  await consumer.subscribe({ topics: [dlqTopic], fromBeginning: true });
  await consumer.run({ eachMessage: async ({ message }) => void dead.push(message) });
  try {
    await waitUntil('dead letters read', () => dead.length >= corpus.length);
  } finally {
    await consumer.disconnect();
  }
  const header = (m: KafkaMessage, name: string) => m.headers?.[name]?.toString();
  dead.sort((a, b) => Number(header(a, DEAD_LETTER_HEADERS.offset)) - Number(header(b, DEAD_LETTER_HEADERS.offset)));
  expect(dead.map((m) => header(m, DEAD_LETTER_HEADERS.errorCode))).toEqual(corpus.map(([code]) => code));
  dead.forEach((m, i) => {
    const original = corpus[i]![1];
    expect(header(m, DEAD_LETTER_HEADERS.topic)).toBe(topic);
    expect(header(m, DEAD_LETTER_HEADERS.partition)).toBe(String(partition));
    expect(header(m, DEAD_LETTER_HEADERS.offset)).toBe(String(base + BigInt(i)));
    expect(header(m, DEAD_LETTER_HEADERS.errorMessage)?.length).toBeGreaterThan(0);
    expect(m.key?.toString()).toBe('p');
    expect(Buffer.compare(m.value!, original.value as Buffer)).toBe(0);
    expect(m.timestamp).toBe(original.timestamp);
    expect(header(m, 'version')).toBe(original.headers?.version?.toString());
  });
});
